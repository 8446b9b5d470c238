using Bulwark.Api.Etcdserverpb;
using Bulwark.Cli.Client;
using Google.Protobuf;

namespace Bulwark.Cli.Tests.Cli;

/// <summary>The parsing behind `bulwark txn` and `--endpoints`, without a cluster.</summary>
public sealed class ClientSyntaxTests
{
    [Fact]
    public void EndpointsAcceptHostPortUrlsAndBarePortsReusingTheHost()
    {
        Assert.Equal(["http://127.0.0.1:2379", "http://127.0.0.1:22379", "http://127.0.0.1:32379"], ClientEndpoints.Parse(ClientEndpoints.Default));
        Assert.Equal(["http://10.0.0.5:1", "http://10.0.0.5:2", "http://h:3"], ClientEndpoints.Parse("http://10.0.0.5:1/, 2 ,h:3"));
        Assert.Equal(["https://a:1", "http://b:2", "https://b:3"], ClientEndpoints.Parse("https://a:1,http://b:2,3", tls: true));
        Assert.Equal(["https://a:1", "http://a:2"], ClientEndpoints.Parse("https://a:1,2"));
        Assert.Contains("'a:70000' is not an endpoint", Assert.Throws<ClientInputException>(() => ClientEndpoints.Parse("a:70000")).Message, StringComparison.Ordinal);
        Assert.Contains("no endpoint given", Assert.Throws<ClientInputException>(() => ClientEndpoints.Parse(" , ")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ScriptHasComparesThenOperationsThenElseOperations()
    {
        var txn = TxnSyntax.ParseScript("value(\"k\") = \"a b\"\nmod(\"k\") > \"7\"\n\nput k \"say \\\"hi\\\"\"\nget p/ --prefix\n\ndel k\n\n");
        Assert.Equal(2, txn.Compare.Count);
        Assert.Equal(Compare.Types.CompareTarget.Value, txn.Compare[0].Target);
        Assert.Equal("a b", txn.Compare[0].Value.ToStringUtf8());
        Assert.Equal(Compare.Types.CompareResult.Greater, txn.Compare[1].Result);
        Assert.Equal(7, txn.Compare[1].ModRevision);
        Assert.Equal("say \"hi\"", txn.Success[0].RequestPut.Value.ToStringUtf8());
        Assert.Equal("p/", txn.Success[1].RequestRange.Key.ToStringUtf8());
        Assert.Equal("p0", txn.Success[1].RequestRange.RangeEnd.ToStringUtf8());
        Assert.Equal("k", Assert.Single(txn.Failure).RequestDeleteRange.Key.ToStringUtf8());
    }

    [Fact]
    public void EveryCompareTargetAndOperatorParses()
    {
        Assert.Equal(Compare.Types.CompareResult.NotEqual, TxnSyntax.ParseCompare("version(\"k\") != \"0\"").Result);
        Assert.Equal(3, TxnSyntax.ParseCompare("create(\"k\") < \"3\"").CreateRevision);
        Assert.Equal(9, TxnSyntax.ParseCompare("lease(\"k\") = \"9\"").Lease);
        Assert.Equal(2, TxnSyntax.ParseCompare("version(k) = 2").Version);
    }

    [Theory]
    [InlineData("size(\"k\") = \"1\"", "unknown compare target 'size'")]
    [InlineData("value(\"k\") ~ \"1\"", "unknown operator '~'")]
    [InlineData("mod(\"k\") > \"x\"", "'x' is not an integer")]
    [InlineData("value(\"k\") = \"open", "a quoted word is not closed")]
    [InlineData("value \"k\" = 1", "a compare looks like")]
    public void BadComparesSayWhatIsWrong(string line, string message)
    {
        var e = Assert.Throws<ClientInputException>(() => TxnSyntax.ParseCompare(line));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.Equal("txn", e.Argument);
    }

    [Theory]
    [InlineData("put k")]
    [InlineData("put k v --prefix")]
    [InlineData("watch k")]
    [InlineData("get \"\"")]
    public void BadOperationsAreRefused(string line) =>
        Assert.Throws<ClientInputException>(() => TxnSyntax.ParseOperation(line));

    [Fact]
    public void PrefixEndFollowsEtcd()
    {
        Assert.Equal("b", TxnSyntax.PrefixEnd(ByteString.CopyFromUtf8("a")).ToStringUtf8());
        Assert.Equal([0x61, 0x01], TxnSyntax.PrefixEnd(ByteString.CopyFrom(0x61, 0x00)).ToByteArray());
        Assert.Equal([0x62], TxnSyntax.PrefixEnd(ByteString.CopyFrom(0x61, 0xff)).ToByteArray());
        Assert.Equal([0x00], TxnSyntax.PrefixEnd(ByteString.CopyFrom(0xff)).ToByteArray());
    }
}
