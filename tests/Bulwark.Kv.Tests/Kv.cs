using System.Text;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Google.Protobuf;

namespace Bulwark.Kv.Tests;

/// <summary>Short helpers for building requests in tests.</summary>
internal static class Kv
{
    public static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    public static string S(ByteString b) => b.ToStringUtf8();

    public static ByteString Prefix(string prefix)
    {
        var bytes = Encoding.UTF8.GetBytes(prefix);
        bytes[^1]++;
        return ByteString.CopyFrom(bytes);
    }

    public static ByteString AllFrom => ByteString.CopyFrom(0);

    public static PutResponse Put(this MvccStore store, string key, string value, long lease = 0, bool prevKv = false) =>
        store.Put(new PutRequest { Key = B(key), Value = B(value), Lease = lease, PrevKv = prevKv });

    public static DeleteRangeResponse Delete(this MvccStore store, string key, ByteString? rangeEnd = null, bool prevKv = false) =>
        store.DeleteRange(new DeleteRangeRequest { Key = B(key), RangeEnd = rangeEnd ?? ByteString.Empty, PrevKv = prevKv });

    public static KeyValue? Get(this MvccStore store, string key, long revision = 0)
    {
        var r = store.Range(new RangeRequest { Key = B(key), Revision = revision });
        return r.Kvs.Count == 0 ? null : r.Kvs[0];
    }

    public static string[] Keys(this RangeResponse response) => response.Kvs.Select(kv => S(kv.Key)).ToArray();

    public static RequestOp OpPut(string key, string value) => new() { RequestPut = new PutRequest { Key = B(key), Value = B(value) } };

    public static RequestOp OpDelete(string key, ByteString? rangeEnd = null) =>
        new() { RequestDeleteRange = new DeleteRangeRequest { Key = B(key), RangeEnd = rangeEnd ?? ByteString.Empty } };

    public static RequestOp OpRange(string key, ByteString? rangeEnd = null, long revision = 0) =>
        new() { RequestRange = new RangeRequest { Key = B(key), RangeEnd = rangeEnd ?? ByteString.Empty, Revision = revision } };

    public static RequestOp OpTxn(TxnRequest txn) => new() { RequestTxn = txn };

    public static Compare Cmp(string key, Compare.Types.CompareTarget target, Compare.Types.CompareResult result, long number = 0, string? value = null)
    {
        var c = new Compare { Key = B(key), Target = target, Result = result };
        switch (target)
        {
            case Compare.Types.CompareTarget.Value: c.Value = B(value ?? string.Empty); break;
            case Compare.Types.CompareTarget.Version: c.Version = number; break;
            case Compare.Types.CompareTarget.Create: c.CreateRevision = number; break;
            case Compare.Types.CompareTarget.Mod: c.ModRevision = number; break;
            case Compare.Types.CompareTarget.Lease: c.Lease = number; break;
        }

        return c;
    }
}
