using System.Globalization;
using Bulwark.Api.Etcdserverpb;
using Google.Protobuf;

namespace Bulwark.Server.Api.Concurrency;

/// <summary>
/// The keys etcd's concurrency recipes use, byte for byte: a lock or election named N keeps one key per participant,
/// N + "/" + the participant's lease id in lowercase hex (Go's %x, so a negative id reads "-1f"), and the participant
/// whose key has the smallest create revision holds the lock or leads.
/// </summary>
internal static class ConcurrencyKeys
{
    /// <summary>The prefix under which every participant of <paramref name="name"/> keeps its key.</summary>
    public static ByteString Prefix(ByteString name) => Join(name, "/");

    /// <summary>The key of the participant holding <paramref name="lease"/>.</summary>
    public static ByteString Own(ByteString prefix, long lease) => Join(prefix, GoHex(lease));

    private static ByteString Join(ByteString head, string tail)
    {
        var tailBytes = System.Text.Encoding.UTF8.GetBytes(tail);
        var joined = new byte[head.Length + tailBytes.Length];
        head.Span.CopyTo(joined);
        tailBytes.CopyTo(joined, head.Length);
        return ByteString.CopyFrom(joined);
    }

    /// <summary>The end of the range holding every key that starts with <paramref name="prefix"/> (etcd's GetPrefixRangeEnd).</summary>
    public static ByteString PrefixEnd(ByteString prefix)
    {
        var end = prefix.ToByteArray();
        for (int i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xff)
            {
                end[i]++;
                return ByteString.CopyFrom(end, 0, i + 1);
            }
        }

        return ByteString.CopyFrom(0); // every byte is 0xff: the range runs to the end of the keyspace
    }

    /// <summary>
    /// A Range for the one participant of <paramref name="prefix"/> whose key was created first (<paramref name="oldest"/>)
    /// or last, optionally only among those created at or before <paramref name="maxCreateRevision"/>.
    /// </summary>
    public static RangeRequest Edge(ByteString prefix, bool oldest, long maxCreateRevision = 0) => new()
    {
        Key = prefix,
        RangeEnd = PrefixEnd(prefix),
        SortTarget = RangeRequest.Types.SortTarget.Create,
        SortOrder = oldest ? RangeRequest.Types.SortOrder.Ascend : RangeRequest.Types.SortOrder.Descend,
        Limit = 1,
        MaxCreateRevision = maxCreateRevision,
    };

    /// <summary>Compares <paramref name="key"/>'s create revision with <paramref name="revision"/> (0: the key does not exist).</summary>
    public static Compare CreatedAt(ByteString key, long revision) => new()
    {
        Key = key,
        Target = Compare.Types.CompareTarget.Create,
        Result = Compare.Types.CompareResult.Equal,
        CreateRevision = revision,
    };

    public static RequestOp Put(ByteString key, ByteString value, long lease) =>
        new() { RequestPut = new PutRequest { Key = key, Value = value, Lease = lease } };

    public static RequestOp Get(ByteString key) => new() { RequestRange = new RangeRequest { Key = key } };

    public static RequestOp Get(RangeRequest range) => new() { RequestRange = range };

    public static RequestOp Delete(ByteString key) => new() { RequestDeleteRange = new DeleteRangeRequest { Key = key } };

    /// <summary>Go's %x of an int64: lowercase hex of the magnitude, with a minus sign when negative.</summary>
    public static string GoHex(long value) => value >= 0
        ? value.ToString("x", CultureInfo.InvariantCulture)
        : "-" + ((ulong)(-(value + 1)) + 1).ToString("x", CultureInfo.InvariantCulture);
}
