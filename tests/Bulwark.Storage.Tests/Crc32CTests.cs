using System.Text;

namespace Bulwark.Storage.Tests;

public sealed class Crc32CTests
{
    [Fact]
    public void MatchesTheStandardCheckValue() =>
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));

    [Fact]
    public void IncrementalEqualsOneShot()
    {
        var data = new byte[1000];
        new Random(1).NextBytes(data);
        var state = Crc32C.Update(uint.MaxValue, data.AsSpan(0, 13));
        state = Crc32C.Update(state, data.AsSpan(13));
        Assert.Equal(Crc32C.Compute(data), ~state);
    }
}

public sealed class Crc32CLaneTests
{
    [Fact]
    public void InterleavedLanesAgreeWithTheSerialLoopAtEveryLengthAndAlignment()
    {
        var data = new byte[20_000];
        new Random(3).NextBytes(data);
        var rng = new Random(4);
        for (var trial = 0; trial < 300; trial++)
        {
            var start = rng.Next(0, 64);
            var length = trial < 40 ? 3 * 1024 - 20 + trial : rng.Next(0, data.Length - start);
            var span = data.AsSpan(start, length);
            var seed = (uint)rng.Next();
            Assert.Equal(Crc32C.UpdateSerial(seed, span), Crc32C.Update(seed, span));
        }
    }
}
