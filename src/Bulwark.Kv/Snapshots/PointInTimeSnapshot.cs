using Bulwark.Kv.Index;

namespace Bulwark.Kv.Snapshots;

/// <summary>
/// A store snapshot at one revision R, written by a background thread while the store's owner keeps applying writes
/// (from <see cref="MvccStore.BeginPointInTimeSnapshot"/>). Its bytes are exactly what <see cref="MvccStore.WriteSnapshot"/>
/// wrote at R, because after R the store only
/// <list type="bullet">
/// <item>appends states newer than R to keys, or inserts keys whose first state is newer than R (both skipped here);</item>
/// <item>rolls back a failed write, which removes only such newer states and keys;</item>
/// <item>moves the compact revision, whose history dropping the store defers until the snapshot ends, while the compact
/// revision written is the one captured at R.</item>
/// </list>
/// The sections other than keys (revisions, leases, alarms, auth) are encoded at R when the snapshot begins; they are
/// small. Keys are read in key order in chunks under the owner's lock, copying only references (keys and values are
/// never mutated), and encoded outside it, so the owner waits at most one chunk's copy and extra memory is one chunk.
/// Each chunk resumes after the last key read, so index splits and merges between chunks do not matter. The walk stops
/// once it has written the key count captured at R, so keys inserted ahead of it cannot keep it going.
/// </summary>
public sealed class PointInTimeSnapshot
{
    /// <summary>Keys read per chunk: enough to amortise the lock, few enough that the owner never waits long.</summary>
    public const int DefaultChunkKeys = 512;

    // A key with a long history is copied whole, but a chunk stops taking more keys once it holds this many states.
    private const int ChunkStates = 8192;

    private readonly KeyIndex index;
    private readonly byte[] header;
    private readonly long keyCount;
    private int written;

    internal PointInTimeSnapshot(KeyIndex index, byte[] header, long keyCount, long revision, long compactRevision)
    {
        this.index = index;
        this.header = header;
        this.keyCount = keyCount;
        Revision = revision;
        CompactRevision = compactRevision;
    }

    /// <summary>The store revision the snapshot holds.</summary>
    public long Revision { get; }

    /// <summary>The compact revision the snapshot records.</summary>
    public long CompactRevision { get; }

    /// <summary>
    /// Writes the snapshot (once). <paramref name="storeLock"/> is the lock under which the owner changes the store.
    /// <paramref name="betweenChunks"/> runs after each chunk but the last, outside the lock (tests interleave writes
    /// there deterministically).
    /// </summary>
    /// <exception cref="InvalidOperationException">Written before, or the store broke the invariants above.</exception>
    public void WriteTo(Stream destination, Lock storeLock, Action? betweenChunks = null, int chunkKeys = DefaultChunkKeys)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (storeLock is null)
        {
            throw new ArgumentNullException(nameof(storeLock));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(chunkKeys, 1);
        if (Interlocked.Exchange(ref written, 1) != 0)
        {
            throw new InvalidOperationException($"The snapshot of revision {Revision} was already written.");
        }

        var encoder = new KvSnapshotEncoder(destination);
        encoder.WriteRaw(header);
        encoder.WriteVarUInt((ulong)keyCount);
        var chunk = new Chunk();
        long keysWritten = 0;
        // Every key of the snapshot was in the index at R, so once all are written the rest are newer keys: stop there,
        // rather than chase keys inserted ahead of the walk (it ends even if inserts outpaced it).
        while (keysWritten < keyCount)
        {
            bool last;
            lock (storeLock)
            {
                last = ReadChunk(chunk, chunkKeys, keyCount - keysWritten);
            }

            keysWritten += chunk.Encode(encoder);
            if (last || keysWritten == keyCount)
            {
                break;
            }

            betweenChunks?.Invoke();
        }

        if (keysWritten != keyCount)
        {
            throw new InvalidOperationException($"MvccStore invariant broken: a snapshot of revision {Revision} counted {keyCount} keys but found {keysWritten}.");
        }

        encoder.Finish();
    }

    /// <summary>Copies the next keys' states at or below the revision into the chunk (under the store lock); true at the end.</summary>
    private bool ReadChunk(Chunk chunk, int chunkKeys, long keysLeft)
    {
        var resumeAfter = chunk.LastKeyRead;
        chunk.Clear();
        var cursor = resumeAfter is null ? index.First() : index.Seek(resumeAfter);
        int keysRead = 0;
        while (keysRead < chunkKeys && chunk.States.Count < ChunkStates)
        {
            if (!cursor.TryNext(out var record))
            {
                return true;
            }

            if (resumeAfter is not null && keysRead == 0 && record.Key.AsSpan().SequenceEqual(resumeAfter))
            {
                continue; // Seek lands on the key itself when it is still indexed
            }

            keysRead++;
            chunk.LastKeyRead = record.Key;
            var (start, end) = record.Retained(CompactRevision, Revision);
            if (start == end)
            {
                continue; // first written after the snapshot's revision
            }

            if (chunk.Keys.Count == keysLeft)
            {
                throw new InvalidOperationException($"MvccStore invariant broken: a snapshot of revision {Revision} found more than the {keyCount} keys it counted.");
            }

            chunk.Keys.Add((record.Key, end - start));
            for (int i = start; i < end; i++)
            {
                chunk.States.Add(record.StateAt(i));
            }
        }

        return false;
    }

    /// <summary>Keys and their states copied under the lock: references only, the bytes stay shared.</summary>
    private sealed class Chunk
    {
        public List<(byte[] Key, int StateCount)> Keys { get; } = [];

        public List<RevisionEntry> States { get; } = [];

        public byte[]? LastKeyRead { get; set; }

        public void Clear()
        {
            Keys.Clear();
            States.Clear();
        }

        public int Encode(KvSnapshotEncoder encoder)
        {
            int next = 0;
            foreach (var (key, count) in Keys)
            {
                encoder.WriteBytes(key);
                encoder.WriteVarUInt((ulong)count);
                for (int i = 0; i < count; i++)
                {
                    MvccStore.WriteEntry(encoder, States[next++]);
                }
            }

            return Keys.Count;
        }
    }
}
