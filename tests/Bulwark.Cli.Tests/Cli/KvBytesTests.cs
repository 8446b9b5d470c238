using System.Text;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Bulwark.Cli.Client;
using Google.Protobuf;

namespace Bulwark.Cli.Tests.Cli;

/// <summary>Keys and values as bytes: hex in and out, raw bytes on stdout, etcdctl's JSON, ranges and value sources.</summary>
public sealed class KvBytesTests
{
    private static readonly byte[] NotUtf8 = [0x01, 0xfe, 0xff, 0x00, (byte)'a'];

    [Theory]
    [InlineData("01feff0061")]
    [InlineData("01FEFF0061")]
    [InlineData("\\x01\\xfe\\xff\\x00\\x61")]
    [InlineData(" 01 fe ff 00 61\n")]
    public void Hex_is_read_plain_or_in_etcdctls_form(string text) =>
        Assert.Equal(NotUtf8, KvBytes.ParseHex(text, "key"));

    [Fact]
    public void Hex_is_printed_in_etcdctls_form_and_read_back()
    {
        var printed = KvBytes.ToHex(ByteString.CopyFrom(NotUtf8));
        Assert.Equal("\\x01\\xfe\\xff\\x00\\x61", printed);
        Assert.Equal(NotUtf8, KvBytes.ParseHex(printed, "value"));
        Assert.Empty(KvBytes.ParseHex("", "value"));
    }

    [Theory]
    [InlineData("0g", "'g', which is not a hex digit")]
    [InlineData("abc", "odd number of hex digits (3)")]
    public void Bad_hex_says_what_is_wrong(string text, string message)
    {
        var e = Assert.Throws<ClientInputException>(() => KvBytes.ParseHex(text, "value"));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.Equal("value", e.Argument);
    }

    [Fact]
    public void Table_cells_escape_what_is_not_printable_utf8()
    {
        Assert.Equal("a\\x01\\xfe\\xff\\x00é\\\\", KvBytes.ToDisplay(ByteString.CopyFrom([(byte)'a', 0x01, 0xfe, 0xff, 0x00, 0xc3, 0xa9, (byte)'\\'])));
    }

    [Fact]
    public void Simple_output_writes_the_raw_bytes()
    {
        var response = new RangeResponse { Count = 1 };
        response.Kvs.Add(new KeyValue { Key = ByteString.CopyFrom(NotUtf8), Value = ByteString.CopyFrom(0xc3, 0x28, 0x0a), Version = 1 });
        Assert.Equal([.. NotUtf8, 0x0a, 0xc3, 0x28, 0x0a, 0x0a], Print(o => KvPrinter.Range(o, response, new KvView(OutputFormat.Simple))));
        Assert.Equal("\\x01\\xfe\\xff\\x00\\x61\n\\xc3\\x28\\x0a\n", Encoding.UTF8.GetString(Print(o => KvPrinter.Range(o, response, new KvView(OutputFormat.Simple, Hex: true)))));
        Assert.Equal("\\xc3\\x28\\x0a\n", Encoding.UTF8.GetString(Print(o => KvPrinter.Range(o, response, new KvView(OutputFormat.Simple, Hex: true, ValuesOnly: true)))));
        Assert.Equal("1\n", Encoding.UTF8.GetString(Print(o => KvPrinter.Range(o, new RangeResponse { Count = 1 }, new KvView(OutputFormat.Simple, CountOnly: true)))));
    }

    [Fact]
    public void Json_is_shaped_like_etcdctls()
    {
        var header = new ResponseHeader { ClusterId = 14841639068965178418, MemberId = 10276657743932975437, Revision = 5, RaftTerm = 2 };
        var range = new RangeResponse { Header = header, Count = 2, More = true };
        range.Kvs.Add(new KeyValue { Key = ByteString.CopyFromUtf8("foo"), Value = ByteString.CopyFromUtf8("bar"), CreateRevision = 2, ModRevision = 3, Version = 2 });
        range.Kvs.Add(new KeyValue { Key = ByteString.CopyFrom(0xff), CreateRevision = 4, ModRevision = 4, Version = 1, Lease = 7 });
        Assert.Equal(
            """{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"revision":5,"raft_term":2},"kvs":[{"key":"Zm9v","create_revision":2,"mod_revision":3,"version":2,"value":"YmFy"},{"key":"/w==","create_revision":4,"mod_revision":4,"version":1,"lease":7}],"more":true,"count":2}""" + "\n",
            Encoding.UTF8.GetString(Print(o => KvPrinter.Range(o, range, new KvView(OutputFormat.Json)))));

        var txn = new TxnResponse { Header = header, Succeeded = true };
        txn.Responses.Add(new ResponseOp { ResponsePut = new PutResponse { Header = new ResponseHeader { Revision = 5 } } });
        txn.Responses.Add(new ResponseOp { ResponseDeleteRange = new DeleteRangeResponse { Header = new ResponseHeader { Revision = 5 }, Deleted = 1 } });
        Assert.Equal(
            """{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"revision":5,"raft_term":2},"succeeded":true,"responses":[{"Response":{"ResponsePut":{"header":{"revision":5}}}},{"Response":{"ResponseDeleteRange":{"header":{"revision":5},"deleted":1}}}]}""" + "\n",
            Encoding.UTF8.GetString(Print(o => KvPrinter.Txn(o, txn, new KvView(OutputFormat.Json)))));
    }

    [Fact]
    public void Table_lists_keys_with_their_revisions()
    {
        var range = new RangeResponse { Count = 1 };
        range.Kvs.Add(new KeyValue { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFrom(0x00), CreateRevision = 2, ModRevision = 3, Version = 2 });
        Assert.Equal(
            "KEY  VALUE  CREATE_REVISION  MOD_REVISION  VERSION  LEASE\nk    \\x00   2                3             2        0\n",
            Encoding.UTF8.GetString(Print(o => KvPrinter.Range(o, range, new KvView(OutputFormat.Table)))));
    }

    [Fact]
    public void Ranges_follow_etcdctl()
    {
        var k = ByteString.CopyFromUtf8("a");
        Assert.Equal((ByteString.CopyFrom(0), ByteString.CopyFrom(0)), KeyRange.Build(ByteString.Empty, null, prefix: true, fromKey: false));
        Assert.Equal((ByteString.CopyFrom(0), ByteString.CopyFrom(0)), KeyRange.Build(ByteString.Empty, null, prefix: false, fromKey: true));
        Assert.Equal((k, ByteString.CopyFromUtf8("b")), KeyRange.Build(k, null, prefix: true, fromKey: false));
        Assert.Equal((k, ByteString.CopyFrom(0)), KeyRange.Build(k, null, prefix: false, fromKey: true));
        Assert.Equal((k, ByteString.CopyFromUtf8("c")), KeyRange.Build(k, ByteString.CopyFromUtf8("c"), prefix: false, fromKey: false));
        Assert.Equal((k, ByteString.Empty), KeyRange.Build(k, null, prefix: false, fromKey: false));
        Assert.Equal("prefix", Assert.Throws<ClientInputException>(() => KeyRange.Build(k, null, prefix: true, fromKey: true)).Argument);
        Assert.Equal("range_end", Assert.Throws<ClientInputException>(() => KeyRange.Build(k, k, prefix: true, fromKey: false)).Argument);
        Assert.Contains("get \"\" --prefix", Assert.Throws<ClientInputException>(() => KeyRange.Build(ByteString.Empty, null, prefix: false, fromKey: false)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_value_comes_from_the_argument_a_file_or_stdin_byte_for_byte()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(file, NotUtf8);
            Assert.Equal(NotUtf8, ValueInput.Read(null, file, hex: false, NoStdin, standardInputIsTerminal: true).ToByteArray());
            File.WriteAllText(file, "\\x01\\xfe\n");
            Assert.Equal([0x01, 0xfe], ValueInput.Read(null, file, hex: true, NoStdin, standardInputIsTerminal: true).ToByteArray());
            Assert.Equal(NotUtf8, ValueInput.Read(null, null, hex: false, () => new MemoryStream(NotUtf8), standardInputIsTerminal: false).ToByteArray());
            Assert.Equal("v", ValueInput.Read("v", null, hex: false, NoStdin, standardInputIsTerminal: true).ToStringUtf8());
            Assert.True(ValueInput.Read("", null, hex: false, NoStdin, standardInputIsTerminal: true).IsEmpty);
            Assert.Equal("value-file", Assert.Throws<ClientInputException>(() => ValueInput.Read("v", file, false, NoStdin, true)).Argument);
            Assert.Contains("cannot read", Assert.Throws<ClientInputException>(() => ValueInput.Read(null, file + ".missing", false, NoStdin, true)).Message, StringComparison.Ordinal);
            Assert.Contains("no value", Assert.Throws<ClientInputException>(() => ValueInput.Read(null, null, false, NoStdin, true)).Message, StringComparison.Ordinal);
            Assert.Contains("stdin was empty", Assert.Throws<ClientInputException>(() => ValueInput.Read(null, null, false, () => new MemoryStream(), false)).Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Txn_words_may_be_hex()
    {
        var txn = TxnSyntax.Build(["value(\"6b\") = \"ff\""], ["put 6b \\x00\\xff"], [], hex: true);
        Assert.Equal("k", txn.Compare[0].Key.ToStringUtf8());
        Assert.Equal([0xff], txn.Compare[0].Value.ToByteArray());
        Assert.Equal([0x00, 0xff], txn.Success[0].RequestPut.Value.ToByteArray());
        Assert.Contains("not a hex digit", Assert.Throws<ClientInputException>(() => TxnSyntax.ParseOperation("put zz 00", hex: true)).Message, StringComparison.Ordinal);
    }

    private static Stream NoStdin() => throw new InvalidOperationException("stdin must not be read here");

    private static byte[] Print(Action<ByteOutput> print)
    {
        using var buffer = new MemoryStream();
        using (var writer = new StreamWriter(buffer, new UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" })
        {
            print(new ByteOutput(writer));
            writer.Flush();
        }

        return buffer.ToArray();
    }
}
