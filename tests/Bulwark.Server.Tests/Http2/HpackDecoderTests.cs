using System.Text;
using Bulwark.Server.Api.Http2;

namespace Bulwark.Server.Tests.Http2;

/// <summary>RFC 7541 Appendix C: each group is consecutive header blocks on one connection.</summary>
public sealed class HpackDecoderTests
{
    [Fact]
    public void IntegerExamples()
    {
        var at = 0;
        Assert.Equal(10, HpackDecoder.ReadInteger([0b1110_1010], ref at, 5));
        at = 0;
        Assert.Equal(1337, HpackDecoder.ReadInteger([0b0001_1111, 0x9a, 0x0a], ref at, 5));
        Assert.Equal(3, at);
        at = 0;
        Assert.Equal(42, HpackDecoder.ReadInteger([42], ref at, 8));

        var written = new List<byte>();
        HpackLiteralEncoder.WriteInteger(written, 0, 5, 1337);
        Assert.Equal(new byte[] { 0x1f, 0x9a, 0x0a }, written);
    }

    [Fact]
    public void C2FieldRepresentations()
    {
        var decoder = new HpackDecoder();
        Assert.Equal(["custom-key: custom-header"], Decode(decoder, "400a637573746f6d2d6b65790d637573746f6d2d686561646572"));
        Assert.Equal(55, decoder.TableSize);
        Assert.Equal([":path: /sample/path"], Decode(new HpackDecoder(), "040c2f73616d706c652f70617468"));
        var never = new HpackDecoder().Decode(Convert.FromHexString("100870617373776f726406736563726574"));
        Assert.True(Assert.Single(never).NeverIndexed);
        Assert.Equal([":method: GET"], Decode(new HpackDecoder(), "82"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void C3AndC4Requests(bool huffman)
    {
        var decoder = new HpackDecoder();
        var blocks = huffman
            ? new[] { "828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf", "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf" }
            : new[] { "828684410f7777772e6578616d706c652e636f6d", "828684be58086e6f2d6361636865", "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565" };
        Assert.Equal([":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com"], Decode(decoder, blocks[0]));
        Assert.Equal(57, decoder.TableSize);
        Assert.Equal([":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com", "cache-control: no-cache"], Decode(decoder, blocks[1]));
        Assert.Equal(110, decoder.TableSize);
        Assert.Equal([":method: GET", ":scheme: https", ":path: /index.html", ":authority: www.example.com", "custom-key: custom-value"], Decode(decoder, blocks[2]));
        Assert.Equal(164, decoder.TableSize);
        Assert.Equal(3, decoder.TableCount);
        Assert.Equal("custom-key: custom-value", decoder.DynamicEntry(1).ToString());
        Assert.Equal(":authority: www.example.com", decoder.DynamicEntry(3).ToString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void C5AndC6ResponsesWithEviction(bool huffman)
    {
        var decoder = new HpackDecoder(256);
        var blocks = huffman
            ? new[]
            {
                "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
                "4883640effc1c0bf",
                "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
            }
            : new[]
            {
                "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
                "4803333037c1c0bf",
                "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31",
            };
        Assert.Equal(
            [":status: 302", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:21 GMT", "location: https://www.example.com"],
            Decode(decoder, blocks[0]));
        Assert.Equal(222, decoder.TableSize);
        Assert.Equal(
            [":status: 307", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:21 GMT", "location: https://www.example.com"],
            Decode(decoder, blocks[1]));
        Assert.Equal(222, decoder.TableSize);
        Assert.Equal(
            [
                ":status: 200", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:22 GMT", "location: https://www.example.com",
                "content-encoding: gzip", "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
            ],
            Decode(decoder, blocks[2]));
        Assert.Equal(215, decoder.TableSize);
        Assert.Equal(3, decoder.TableCount);
    }

    [Fact]
    public void SizeUpdateEvicts()
    {
        var decoder = new HpackDecoder();
        Decode(decoder, "400a637573746f6d2d6b65790d637573746f6d2d686561646572");
        Assert.Equal(1, decoder.TableCount);
        Assert.Empty(decoder.Decode([0x20]));
        Assert.Equal(0, decoder.TableCount);
        Assert.Throws<HpackException>(() => decoder.Decode(Convert.FromHexString("3fe21f"))); // 4096 + 1 > allowed
    }

    [Theory]
    [InlineData("80")] // index 0
    [InlineData("be")] // dynamic index 62 with an empty table
    [InlineData("410f7777")] // string longer than the block
    [InlineData("1f")] // integer cut short
    public void RejectsMalformedBlocks(string hex)
    {
        Assert.Throws<HpackException>(() => new HpackDecoder().Decode(Convert.FromHexString(hex)));
    }

    [Fact]
    public void LiteralEncoderOutputDecodesWithoutTouchingTheTable()
    {
        var fields = new List<HeaderField>
        {
            new(":authority"u8.ToArray(), "127.0.0.1:2379"u8.ToArray()),
            new("x-custom"u8.ToArray(), new string('v', 300).Select(c => (byte)c).ToArray()),
            new("authorization"u8.ToArray(), "secret"u8.ToArray(), NeverIndexed: true),
        };
        var decoder = new HpackDecoder();
        var decoded = decoder.Decode(HpackLiteralEncoder.Encode(fields));
        Assert.Equal(fields, decoded, (a, b) => a.Name.SequenceEqual(b.Name) && a.Value.SequenceEqual(b.Value) && a.NeverIndexed == b.NeverIndexed);
        Assert.Equal(0, decoder.TableCount);
    }

    private static string[] Decode(HpackDecoder decoder, string hex) =>
        [.. decoder.Decode(Convert.FromHexString(hex)).Select(f => f.ToString())];
}
