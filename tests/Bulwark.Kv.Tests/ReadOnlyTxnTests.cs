using Bulwark.Api.Etcdserverpb;
using Google.Protobuf;
using static Bulwark.Kv.Tests.Kv;

namespace Bulwark.Kv.Tests;

/// <summary>A read-only txn answers exactly as the same txn through the log, and never enters the write state.</summary>
public sealed class ReadOnlyTxnTests
{
    private static RequestOp RangeOp(string key, long revision = 0) =>
        new() { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8(key), Revision = revision } };

    [Fact]
    public void Answers_as_the_logged_txn_and_changes_nothing()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("a", "2");
        var request = new TxnRequest
        {
            Compare = { new Compare { Key = ByteString.CopyFromUtf8("a"), Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Equal, Version = 2 } },
            Success = { RangeOp("a"), RangeOp("a", revision: 2), new RequestOp { RequestTxn = new TxnRequest { Success = { RangeOp("missing") } } } },
            Failure = { RangeOp("none") },
        };
        Assert.True(MvccStore.IsReadOnly(request));
        var hash = store.ContentHash();

        var local = store.ReadOnlyTxn(request);

        Assert.Equal(hash, store.ContentHash());
        Assert.Equal(store.Txn(request.Clone()), local);
        Assert.True(local.Succeeded);
        Assert.Equal("1", local.Responses[1].ResponseRange.Kvs[0].Value.ToStringUtf8());
    }

    [Fact]
    public void A_txn_that_writes_is_refused_and_changes_nothing()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        var writes = new TxnRequest
        {
            Success = { RangeOp("a"), new RequestOp { RequestTxn = new TxnRequest { Failure = { new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8("a") } } } } } },
        };
        Assert.False(MvccStore.IsReadOnly(writes));
        var hash = store.ContentHash();

        Assert.Throws<ArgumentException>(() => store.ReadOnlyTxn(writes));

        Assert.Equal(hash, store.ContentHash());
        store.Put("b", "2"); // the store still takes writes
    }
}
