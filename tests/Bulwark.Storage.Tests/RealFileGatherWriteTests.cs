using Bulwark.Storage.FileSystem;

namespace Bulwark.Storage.Tests;

public sealed class RealFileGatherWriteTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "bulwark-gather-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData(1)]
    [InlineData(512)]
    [InlineData(1500)] // more parts than one pwritev takes (IOV_MAX is 1024): split into several calls
    public void AGatherWriteLandsLikeOneWriteOfTheConcatenation(int partCount)
    {
        System.IO.Directory.CreateDirectory(_dir);
        var rng = new Random(partCount);
        var parts = new List<ReadOnlyMemory<byte>>();
        for (var i = 0; i < partCount; i++)
        {
            var part = new byte[rng.Next(0, 300)];
            rng.NextBytes(part);
            parts.Add(part);
        }

        var expected = parts.SelectMany(p => p.ToArray()).ToArray();
        var path = Path.Combine(_dir, "g.dat");
        using var file = RealFileSystem.Instance.Open(path, OpenMode.CreateNew);
        file.Preallocate(1 << 20);
        file.WriteAt(100, parts);
        var back = new byte[expected.Length + 8];
        Assert.Equal(back.Length, file.ReadAt(96, back));
        Assert.Equal(new byte[4], back[..4]);
        Assert.Equal(expected, back[4..^4]);
        Assert.Equal(new byte[4], back[^4..]);
    }

    public void Dispose()
    {
        if (System.IO.Directory.Exists(_dir))
        {
            System.IO.Directory.Delete(_dir, recursive: true);
        }
    }
}
