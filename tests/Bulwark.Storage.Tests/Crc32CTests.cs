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
