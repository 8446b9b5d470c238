using System.Buffers;
using System.Collections.Immutable;
using Bulwark.Consensus;

namespace Bulwark.Server.Transport;

/// <summary>
/// The compact binary form of a <see cref="Message"/>: fixed type and flag bytes, then varints, length-prefixed
/// context and entries, and snapshot metadata when present. Snapshot data is never part of it.
/// </summary>
internal static class MessageCodec
{
    private const byte FlagReject = 1;
    private const byte FlagSnapshot = 2;
    private const byte KnownFlags = FlagReject | FlagSnapshot;

    // type + term + index + data length: the least an entry can occupy.
    private const int MinEntryBytes = 4;

    public static void Write(ref WireWriter w, Message m, bool withSnapshotMetadata)
    {
        w.WriteByte((byte)m.Type);
        var flags = (byte)((m.Reject ? FlagReject : 0) | (withSnapshotMetadata ? FlagSnapshot : 0));
        w.WriteByte(flags);
        w.WriteVarint(m.From);
        w.WriteVarint(m.To);
        w.WriteVarint(m.Term);
        w.WriteVarint(m.LogTerm);
        w.WriteVarint(m.Index);
        w.WriteVarint(m.Commit);
        w.WriteVarint(m.RejectHint);
        w.WriteBytes(m.Context.Span);
        var entries = m.Entries.IsDefault ? ImmutableArray<Entry>.Empty : m.Entries;
        w.WriteVarint((ulong)entries.Length);
        foreach (var e in entries)
        {
            w.WriteByte((byte)e.Type);
            w.WriteVarint(e.Term);
            w.WriteVarint(e.Index);
            w.WriteBytes(e.Data.Span);
        }

        if (withSnapshotMetadata)
        {
            var meta = m.Snapshot!.Metadata;
            w.WriteVarint(meta.Index);
            w.WriteVarint(meta.Term);
            WriteIds(ref w, meta.Config.Voters);
            WriteIds(ref w, meta.Config.Learners);
            WriteIds(ref w, meta.Config.OutgoingVoters);
        }
    }

    /// <summary>Reads a message; when it carries snapshot metadata the snapshot's data is <paramref name="snapshotData"/>.</summary>
    public static Message Read(ref WireReader r, bool expectSnapshot, ReadOnlyMemory<byte> snapshotData = default)
    {
        var rawType = r.ReadByte("message type");
        var type = (MessageType)rawType;
        if (!Enum.IsDefined(type))
        {
            throw new WireFormatException($"unknown message type {rawType}");
        }

        var flags = r.ReadByte("message flags");
        if ((flags & ~KnownFlags) != 0)
        {
            throw new WireFormatException($"unknown message flags 0x{flags:x2}");
        }

        var hasSnapshot = (flags & FlagSnapshot) != 0;
        if (hasSnapshot != expectSnapshot)
        {
            throw new WireFormatException(hasSnapshot
                ? "snapshot metadata in a plain message frame (snapshots must be streamed)"
                : "snapshot transfer without snapshot metadata");
        }

        var from = r.ReadVarint("from");
        var to = r.ReadVarint("to");
        var term = r.ReadVarint("term");
        var logTerm = r.ReadVarint("log term");
        var index = r.ReadVarint("index");
        var commit = r.ReadVarint("commit");
        var rejectHint = r.ReadVarint("reject hint");
        var context = r.ReadBytes("context");
        var count = r.ReadCount("entry count", MinEntryBytes);
        var entries = ImmutableArray.CreateBuilder<Entry>(count);
        for (var i = 0; i < count; i++)
        {
            var rawEntryType = r.ReadByte("entry type");
            var entryType = (EntryType)rawEntryType;
            if (!Enum.IsDefined(entryType))
            {
                throw new WireFormatException($"entry {i} has unknown type {rawEntryType}");
            }

            var entryTerm = r.ReadVarint("entry term");
            var entryIndex = r.ReadVarint("entry index");
            var data = r.ReadBytes("entry data");
            entries.Add(new Entry(entryTerm, entryIndex, entryType, data));
        }

        Snapshot? snapshot = null;
        if (hasSnapshot)
        {
            var snapIndex = r.ReadVarint("snapshot index");
            var snapTerm = r.ReadVarint("snapshot term");
            var voters = ReadIds(ref r, "snapshot voters");
            var learners = ReadIds(ref r, "snapshot learners");
            var outgoing = ReadIds(ref r, "snapshot outgoing voters");
            snapshot = new Snapshot(new SnapshotMetadata(snapIndex, snapTerm, new ClusterConfig(voters, learners, outgoing)), snapshotData);
        }

        return new Message
        {
            Type = type,
            From = from,
            To = to,
            Term = term,
            LogTerm = logTerm,
            Index = index,
            Commit = commit,
            Reject = (flags & FlagReject) != 0,
            RejectHint = rejectHint,
            Context = context,
            Entries = entries.MoveToImmutable(),
            Snapshot = snapshot,
        };
    }

    private static void WriteIds(ref WireWriter w, ImmutableSortedSet<ulong> ids)
    {
        w.WriteVarint((ulong)ids.Count);
        foreach (var id in ids)
        {
            w.WriteVarint(id);
        }
    }

    private static ImmutableSortedSet<ulong> ReadIds(ref WireReader r, string field)
    {
        var count = r.ReadCount(field + " count", 1);
        var builder = ImmutableSortedSet.CreateBuilder<ulong>();
        for (var i = 0; i < count; i++)
        {
            builder.Add(r.ReadVarint(field));
        }

        return builder.ToImmutable();
    }
}
