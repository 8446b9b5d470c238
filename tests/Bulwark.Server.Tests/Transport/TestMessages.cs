using System.Collections.Immutable;
using Bulwark.Consensus;

namespace Bulwark.Server.Tests.Transport;

internal static class TestMessages
{
    public static Message Heartbeat(ulong from, ulong to, ulong term, ulong commit = 0) =>
        new() { Type = MessageType.Heartbeat, From = from, To = to, Term = term, Commit = commit };

    public static Message Append(ulong from, ulong to, ulong index, params string[] data) => new()
    {
        Type = MessageType.Append,
        From = from,
        To = to,
        Term = 3,
        LogTerm = 2,
        Index = index,
        Commit = index,
        Entries = data.Select((d, i) => new Entry(3, index + 1 + (ulong)i, EntryType.Normal, System.Text.Encoding.UTF8.GetBytes(d))).ToImmutableArray(),
    };

    public static Message InstallSnapshot(ulong from, ulong to, byte[] data) => new()
    {
        Type = MessageType.Snapshot,
        From = from,
        To = to,
        Term = 4,
        Snapshot = new Snapshot(
            new SnapshotMetadata(1000, 4, new ClusterConfig(
                ImmutableSortedSet.Create<ulong>(1, 2, 3),
                ImmutableSortedSet.Create<ulong>(9),
                ImmutableSortedSet.Create<ulong>(1, 2, 4))),
            data),
    };

    public static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Compares field by field (records compare ReadOnlyMemory and ImmutableArray by reference).</summary>
    public static void AssertSame(Message expected, Message actual)
    {
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.From, actual.From);
        Assert.Equal(expected.To, actual.To);
        Assert.Equal(expected.Term, actual.Term);
        Assert.Equal(expected.LogTerm, actual.LogTerm);
        Assert.Equal(expected.Index, actual.Index);
        Assert.Equal(expected.Commit, actual.Commit);
        Assert.Equal(expected.Reject, actual.Reject);
        Assert.Equal(expected.RejectHint, actual.RejectHint);
        Assert.Equal(expected.Context.ToArray(), actual.Context.ToArray());
        Assert.Equal(expected.Entries.Length, actual.Entries.Length);
        for (var i = 0; i < expected.Entries.Length; i++)
        {
            var e = expected.Entries[i];
            var a = actual.Entries[i];
            Assert.Equal((e.Term, e.Index, e.Type), (a.Term, a.Index, a.Type));
            Assert.Equal(e.Data.ToArray(), a.Data.ToArray());
        }

        Assert.Equal(expected.Snapshot is null, actual.Snapshot is null);
        if (expected.Snapshot is not null)
        {
            Assert.Equal(expected.Snapshot.Metadata, actual.Snapshot!.Metadata);
            Assert.True(expected.Snapshot.Data.Span.SequenceEqual(actual.Snapshot.Data.Span), "snapshot data differs");
        }
    }
}
