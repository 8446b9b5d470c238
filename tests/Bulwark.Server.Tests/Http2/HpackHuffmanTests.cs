using System.Text;
using Bulwark.Server.Api.Http2;

namespace Bulwark.Server.Tests.Http2;

public sealed class HpackHuffmanTests
{
    [Theory]
    [InlineData(0, 0x1ff8u, 13)]
    [InlineData(1, 0x7fffd8u, 23)]
    [InlineData(10, 0x3ffffffcu, 30)]
    [InlineData(32, 0x14u, 6)]
    [InlineData(47, 0x18u, 6)]
    [InlineData(48, 0x0u, 5)]
    [InlineData(92, 0x7fff0u, 19)]
    [InlineData(126, 0x1ffdu, 13)]
    [InlineData(127, 0xffffffcu, 28)]
    [InlineData(199, 0x1ffffecu, 25)]
    [InlineData(236, 0xfffff4u, 24)]
    [InlineData(255, 0x3ffffeeu, 26)]
    [InlineData(256, 0x3fffffffu, 30)]
    public void DerivedCodesMatchRfc7541AppendixB(int symbol, uint code, int length)
    {
        Assert.Equal(length, HpackHuffman.LengthOf(symbol));
        Assert.Equal(code, HpackHuffman.CodeOf(symbol));
    }

    [Fact]
    public void CodeIsCompletePrefixFree()
    {
        // Kraft sum of exactly 1 over 257 symbols: the lengths were transcribed without a gap or overlap.
        var sum = Enumerable.Range(0, 257).Sum(s => 1L << (30 - HpackHuffman.LengthOf(s)));
        Assert.Equal(1L << 30, sum);
    }

    [Fact]
    public void EveryByteValueRoundTrips()
    {
        for (var b = 0; b < 256; b++)
        {
            var data = new[] { (byte)b, (byte)b, (byte)'a', (byte)b };
            Assert.Equal(data, HpackHuffman.Decode(HpackHuffman.Encode(data)));
        }

        var all = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        Assert.Equal(all, HpackHuffman.Decode(HpackHuffman.Encode(all)));
    }

    [Fact]
    public void RandomStringsRoundTrip()
    {
        var random = new Random(7541);
        for (var i = 0; i < 500; i++)
        {
            var data = new byte[random.Next(0, 64)];
            random.NextBytes(data);
            Assert.Equal(data, HpackHuffman.Decode(HpackHuffman.Encode(data)));
        }
    }

    [Theory]
    [InlineData("www.example.com", "f1e3c2e5f23a6ba0ab90f4ff")]
    [InlineData("no-cache", "a8eb10649cbf")]
    [InlineData("custom-key", "25a849e95ba97d7f")]
    [InlineData("custom-value", "25a849e95bb8e8b4bf")]
    [InlineData("302", "6402")]
    [InlineData("private", "aec3771a4b")]
    public void MatchesRfc7541AppendixCStrings(string text, string hex)
    {
        Assert.Equal(Convert.FromHexString(hex), HpackHuffman.Encode(Encoding.ASCII.GetBytes(text)));
        Assert.Equal(text, Encoding.ASCII.GetString(HpackHuffman.Decode(Convert.FromHexString(hex))));
    }

    [Theory]
    [InlineData("00")] // padding of zeros
    [InlineData("ffffffff")] // contains EOS
    [InlineData("1fff")] // '0' followed by 11 bits of ones: padding longer than 7 bits
    public void RejectsInvalidCoding(string hex)
    {
        Assert.Throws<HpackException>(() => HpackHuffman.Decode(Convert.FromHexString(hex)));
    }
}
