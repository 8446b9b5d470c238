using Bulwark.Api.Etcdserverpb;
using Google.Protobuf;

namespace Bulwark.Client.Recipes;

/// <summary>
/// The key layout and queries of etcd's <c>concurrency</c> package, so Bulwark's recipes and etcdctl's
/// <c>lock</c>/<c>elect</c> contend on the same keys: contender keys are <c>name/{leaseId:x}</c>, and the holder is the
/// key under <c>name/</c> with the lowest create revision.
/// </summary>
internal static class RecipeKeys
{
    public static void RequireName(string? name, string parameter)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException("the name is empty: a lock or election needs a name (its keys are name/{leaseId})", parameter);
        }
    }

    public static string Prefix(string name) => name + "/";

    public static string OwnKey(string name, long leaseId) => $"{name}/{leaseId:x}";

    /// <summary>The first-created key under <paramref name="prefix"/> (etcd's WithFirstCreate).</summary>
    public static RangeRequest FirstCreated(string prefix)
    {
        var key = ByteString.CopyFromUtf8(prefix);
        return new RangeRequest
        {
            Key = key,
            RangeEnd = KeyRanges.PrefixEnd(key),
            SortTarget = RangeRequest.Types.SortTarget.Create,
            SortOrder = RangeRequest.Types.SortOrder.Ascend,
            Limit = 1,
        };
    }

    /// <summary>The last-created key under <paramref name="prefix"/> created at or before <paramref name="maxCreateRevision"/>.</summary>
    public static RangeRequest LastCreatedBefore(string prefix, long maxCreateRevision)
    {
        var key = ByteString.CopyFromUtf8(prefix);
        return new RangeRequest
        {
            Key = key,
            RangeEnd = KeyRanges.PrefixEnd(key),
            SortTarget = RangeRequest.Types.SortTarget.Create,
            SortOrder = RangeRequest.Types.SortOrder.Descend,
            MaxCreateRevision = maxCreateRevision,
            Limit = 1,
        };
    }

    public static Compare CreatedAt(string key, long revision) => new()
    {
        Key = ByteString.CopyFromUtf8(key),
        Target = Compare.Types.CompareTarget.Create,
        Result = Compare.Types.CompareResult.Equal,
        CreateRevision = revision,
    };

    public static RequestOp Put(string key, string value, long leaseId) => new()
    {
        RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value), Lease = leaseId },
    };

    public static RequestOp Get(string key) => new() { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8(key) } };

    public static RequestOp Get(RangeRequest range) => new() { RequestRange = range };

    public static RequestOp Delete(string key) => new() { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) } };
}
