using System.Buffers.Binary;
using Bulwark.Kv.Index;
using Bulwark.Kv.Snapshots;

namespace Bulwark.Kv;

public sealed partial class MvccStore
{
    /// <summary>
    /// Current snapshot format. Version 2 added the replicated alarms after the leases, version 3 the auth state
    /// (users, roles, the auth switch and revision) after the alarms; <see cref="ReadSnapshot"/> also reads versions 1
    /// and 2 so snapshots written before stay readable, and refuses any other.
    /// </summary>
    public const uint SnapshotFormatVersion = 3;

    private const uint SnapshotFormatWithoutAlarms = 1;

    private const uint SnapshotFormatWithoutAuth = 2;

    private const int MaxSnapshotByteString = 256 * 1024 * 1024;
    /// <summary>The first bytes of every store snapshot (and so of every backup file).</summary>
    public static ReadOnlySpan<byte> SnapshotMagic => "BWKVSNAP"u8;

    /// <summary>
    /// Writes the whole store: revisions, leases, every key with its retained history. The same
    /// state always gives the same bytes. Layout: magic "BWKVSNAP", format version (u32 LE),
    /// revision, compact revision, next lease id, leases by id, alarms (member id, type) in order, the auth section
    /// (<see cref="Auth.AuthStore"/>), the number of keys, keys in key
    /// order each with its states oldest first, then an XxHash64 (u64 LE) of all preceding bytes.
    /// Each key's states are those <see cref="KeyRecord.Retained"/> keeps at the compact revision, so the bytes are the
    /// same whether or not the compaction's physical work was deferred by a <see cref="PointInTimeSnapshot"/>.
    /// </summary>
    public void WriteSnapshot(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        EnsureNotWriting();
        var writer = new KvSnapshotEncoder(destination);
        WriteSnapshotHeader(writer);

        // Deferred compaction leaves keys in the index that a compacted store would not have: count what is written.
        bool deferred = HistoryCompactionDeferred;
        long keyCount = deferred ? CountRetainedKeys() : index.Count;
        writer.WriteVarUInt((ulong)keyCount);
        long written = 0;
        var cursor = index.First();
        while (cursor.TryNext(out var record))
        {
            var (start, end) = record.Retained(compactRevision, currentRevision);
            if (start == end)
            {
                continue;
            }

            WriteKeyStates(writer, record, start, end);
            written++;
        }

        if (written != keyCount)
        {
            throw new InvalidOperationException($"MvccStore invariant broken: a snapshot counted {keyCount} keys but wrote {written}.");
        }

        writer.Finish();
    }

    /// <summary>The sections before the keys: marker, version, revisions, leases, alarms and auth.</summary>
    private void WriteSnapshotHeader(KvSnapshotEncoder writer)
    {
        writer.WriteRaw(SnapshotMagic);
        writer.WriteUInt32(SnapshotFormatVersion);
        writer.WriteVarInt(currentRevision);
        writer.WriteVarInt(compactRevision);
        writer.WriteVarInt(leases.NextId);

        var sortedLeases = leases.SortedById();
        writer.WriteVarUInt((ulong)sortedLeases.Length);
        foreach (var lease in sortedLeases)
        {
            writer.WriteVarInt(lease.Id);
            writer.WriteVarInt(lease.Ttl);
        }

        writer.WriteVarUInt((ulong)alarms.Count);
        foreach (var (member, alarm) in alarms)
        {
            writer.WriteVarUInt(member);
            writer.WriteVarUInt((ulong)alarm);
        }

        Auth.Write(writer);
    }

    private long CountRetainedKeys()
    {
        long count = 0;
        var cursor = index.First();
        while (cursor.TryNext(out var record))
        {
            var (start, end) = record.Retained(compactRevision, currentRevision);
            if (start < end)
            {
                count++;
            }
        }

        return count;
    }

    private static void WriteKeyStates(KvSnapshotEncoder writer, KeyRecord record, int start, int end)
    {
        writer.WriteBytes(record.Key);
        writer.WriteVarUInt((ulong)(end - start));
        for (int i = start; i < end; i++)
        {
            WriteEntry(writer, record.StateAt(i));
        }
    }

    /// <summary>A hash of the store's full contents (history included): equal stores give equal hashes.</summary>
    public ulong ContentHash()
    {
        using var sink = new ChecksumCapture();
        WriteSnapshot(sink);
        return sink.LastChecksum;
    }

    /// <summary>Builds a store from bytes written by <see cref="WriteSnapshot"/>.</summary>
    /// <exception cref="InvalidDataException">Wrong format or version, truncated, inconsistent, or checksum mismatch.</exception>
    public static MvccStore ReadSnapshot(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var reader = new KvSnapshotDecoder(source);
        Span<byte> magic = stackalloc byte[8];
        reader.ReadRaw(magic);
        if (!magic.SequenceEqual(SnapshotMagic))
        {
            throw KvSnapshotDecoder.Corrupt("it does not start with the Bulwark key-value snapshot marker");
        }

        uint version = reader.ReadUInt32();
        if (version is not (SnapshotFormatVersion or SnapshotFormatWithoutAuth or SnapshotFormatWithoutAlarms))
        {
            throw new InvalidDataException($"The key-value snapshot has format version {version}; this build reads versions {SnapshotFormatWithoutAlarms} to {SnapshotFormatVersion}.");
        }

        var store = new MvccStore
        {
            currentRevision = reader.ReadVarInt(),
            compactRevision = reader.ReadVarInt(),
        };
        store.leases.NextId = reader.ReadVarInt();
        if (store.currentRevision < 1 || store.compactRevision < 0 || store.compactRevision > store.currentRevision)
        {
            throw KvSnapshotDecoder.Corrupt($"revision {store.currentRevision} and compact revision {store.compactRevision} are inconsistent");
        }

        ulong leaseCount = reader.ReadVarUInt();
        long previousLease = long.MinValue;
        for (ulong i = 0; i < leaseCount; i++)
        {
            long id = reader.ReadVarInt();
            long ttl = reader.ReadVarInt();
            if (i > 0 && id <= previousLease)
            {
                throw KvSnapshotDecoder.Corrupt("lease ids are not in ascending order");
            }

            previousLease = id;
            store.leases.Add(id, ttl);
        }

        if (version >= 2)
        {
            ReadAlarms(reader, store);
        }

        if (version >= 3)
        {
            store.Auth = Bulwark.Kv.Auth.AuthStore.Read(reader);
        }

        ulong keyCount = reader.ReadVarUInt();
        byte[]? previousKey = null;
        for (ulong k = 0; k < keyCount; k++)
        {
            var key = reader.ReadBytes(MaxSnapshotByteString);
            if (key.Length == 0 || (previousKey is not null && previousKey.AsSpan().SequenceCompareTo(key) >= 0))
            {
                throw KvSnapshotDecoder.Corrupt("keys are empty or not in ascending order");
            }

            previousKey = key;
            ulong entryCount = reader.ReadVarUInt();
            if (entryCount == 0 || entryCount > int.MaxValue)
            {
                throw KvSnapshotDecoder.Corrupt($"key has {entryCount} states");
            }

            // Grow as states arrive rather than trusting the count: a corrupt count must not allocate gigabytes.
            var entries = new List<RevisionEntry>((int)Math.Min(entryCount, 16));
            for (ulong e = 0; e < entryCount; e++)
            {
                var entry = ReadEntry(reader);
                if (entry.ModRevision > store.currentRevision || (e > 0 && entry.ModRevision < entries[^1].ModRevision))
                {
                    throw KvSnapshotDecoder.Corrupt("a key's revisions are out of order or beyond the store revision");
                }

                entries.Add(entry);
            }

            var record = new KeyRecord(key, entries[^1]);
            if (entries.Count > 1)
            {
                entries.RemoveAt(entries.Count - 1);
                record.History = entries.ToArray();
                record.HistoryCount = record.History.Length;
            }

            store.index.Insert(record);
            if (record.IsLive)
            {
                store.liveKeys++;
                store.liveDataBytes += DataSize(record.Key, record.Latest);
            }

            if (record.HistoryCount > 0 || !record.IsLive)
            {
                store.versioned.Add(record);
            }

            if (record.IsLive && record.Latest.Lease != 0)
            {
                if (!store.leases.Contains(record.Latest.Lease))
                {
                    throw KvSnapshotDecoder.Corrupt($"a key is attached to lease {record.Latest.Lease}, which the snapshot does not hold");
                }

                store.leases.Attach(record.Latest.Lease, record);
            }
        }

        reader.VerifyChecksum();

        // A snapshot holds compacted history; this only makes that a fact the store relies on (usually nothing to drop).
        store.historyCompactedTo = 0;
        store.CompactHistory();
        return store;
    }

    private static void ReadAlarms(KvSnapshotDecoder reader, MvccStore store)
    {
        ulong count = reader.ReadVarUInt();
        for (ulong i = 0; i < count; i++)
        {
            ulong member = reader.ReadVarUInt();
            ulong type = reader.ReadVarUInt();
            var alarm = (Bulwark.Api.Etcdserverpb.AlarmType)(int)Math.Min(type, int.MaxValue);
            if (alarm == Bulwark.Api.Etcdserverpb.AlarmType.None || !Enum.IsDefined(alarm) || !store.alarms.Add((member, alarm)))
            {
                throw KvSnapshotDecoder.Corrupt($"alarm {type} of member {member:x} is unknown or listed twice");
            }
        }
    }

    internal static void WriteEntry(KvSnapshotEncoder writer, in RevisionEntry entry)
    {
        writer.WriteVarInt(entry.ModRevision);
        writer.WriteVarInt(entry.Version);
        if (entry.IsTombstone)
        {
            return;
        }

        writer.WriteVarInt(entry.CreateRevision);
        writer.WriteVarInt(entry.Lease);
        writer.WriteBytes(entry.Value);
    }

    private static RevisionEntry ReadEntry(KvSnapshotDecoder reader)
    {
        var entry = new RevisionEntry
        {
            ModRevision = reader.ReadVarInt(),
            Version = reader.ReadVarInt(),
        };
        if (entry.Version < 0 || entry.ModRevision < 1)
        {
            throw KvSnapshotDecoder.Corrupt("a key state has a negative version or a revision below 1");
        }

        if (!entry.IsTombstone)
        {
            entry.CreateRevision = reader.ReadVarInt();
            entry.Lease = reader.ReadVarInt();
            entry.Value = reader.ReadBytes(MaxSnapshotByteString);
        }

        return entry;
    }

    /// <summary>A write-only sink that keeps the last 8 bytes written: the snapshot trailer, i.e. its checksum.</summary>
    private sealed class ChecksumCapture : Stream
    {
        private readonly byte[] tail = new byte[8];

        public ulong LastChecksum => BinaryPrimitives.ReadUInt64LittleEndian(tail);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (buffer.Length >= 8)
            {
                buffer[^8..].CopyTo(tail);
            }
            else
            {
                Array.Copy(tail, buffer.Length, tail, 0, 8 - buffer.Length);
                buffer.CopyTo(tail.AsSpan(8 - buffer.Length));
            }
        }
    }
}
