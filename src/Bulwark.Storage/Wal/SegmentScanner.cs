using System.Buffers.Binary;
using Bulwark.Consensus;
using Bulwark.Storage.FileSystem;

namespace Bulwark.Storage.Wal;

/// <summary>
/// Reads the segments of a WAL directory in order, verifies every header and record CRC and feeds the records to a
/// <see cref="LogReplay"/>. Tells a torn tail (cut, never acknowledged) from corruption (refuse to start):
/// only the last segment may end in a bad record, and only if no valid record follows it.
/// </summary>
internal sealed class SegmentScanner
{
    private readonly IFileSystem fs;
    private readonly string directory;

    public SegmentScanner(IFileSystem fs, string directory)
    {
        this.fs = fs;
        this.directory = directory;
    }

    public sealed record SegmentInfo(ulong Sequence, ulong FirstIndex, string Path);

    public sealed record Result(
        LogReplay Replay,
        List<SegmentInfo> Segments,
        long TailOffset,
        long TailDirtyEnd,
        TornTail? TornTail);

    public Result Scan()
    {
        var replay = new LogReplay();
        var segments = new List<SegmentInfo>();
        var stale = new List<string>();
        var names = new List<(ulong Seq, string Path)>();
        foreach (var name in fs.ListFiles(directory))
        {
            if (SegmentName.TryParse(name, out var seq))
            {
                names.Add((seq, PathUtil.Combine(directory, name)));
            }
        }

        names.Sort((a, b) => a.Seq.CompareTo(b.Seq));
        long tailOffset = 0;
        long tailDirtyEnd = 0;
        TornTail? torn = null;
        for (var i = 0; i < names.Count; i++)
        {
            var (seq, path) = names[i];
            var isLast = i == names.Count - 1;
            byte[] bytes;
            long fileLength;
            using (var handle = fs.Open(path, OpenMode.OpenExisting))
            {
                (bytes, fileLength) = ReadContent(handle, path);
            }

            var headerProblem = WalFormat.CheckSegmentHeader(bytes, out var headerSeq, out var firstIndex);
            if (headerProblem is not null)
            {
                if (isLast && bytes.AsSpan(Math.Min(bytes.Length, WalFormat.SegmentHeaderSize)).IndexOfAnyExcept((byte)0) < 0)
                {
                    // A segment whose creation did not finish: nothing was ever written after its header.
                    fs.Delete(path);
                    fs.SyncDirectory(directory);
                    torn = new TornTail(path, 0, headerProblem);
                    continue;
                }

                throw new StorageCorruptionException(path, 0, headerProblem);
            }

            if (headerSeq != seq)
            {
                throw new StorageCorruptionException(path, 8, $"header sequence {headerSeq} does not match the file name's {seq}");
            }

            if (segments.Count > 0 && seq != segments[^1].Sequence + 1)
            {
                // Segments are deleted oldest first, but a crash may persist the deletions in any order. Every segment
                // opens with copies of the hard state and snapshot point, so replay can restart here; if something
                // still needed was in the missing segment, the completeness check below reports it.
                stale.AddRange(segments.Select(x => x.Path));
                segments.Clear();
                replay = new LogReplay();
            }

            segments.Add(new SegmentInfo(seq, firstIndex, path));
            var (end, dirtyEnd, tornHere) = ScanRecords(path, bytes, fileLength, replay, isLast);
            tailOffset = end;
            tailDirtyEnd = dirtyEnd;
            torn ??= tornHere;
        }

        if (replay.CheckComplete() is { } missing)
        {
            throw new StorageCorruptionException(segments.Count > 0 ? segments[0].Path : directory, WalFormat.SegmentHeaderSize, missing);
        }

        if (stale.Count > 0)
        {
            foreach (var path in stale)
            {
                fs.Delete(path);
            }

            fs.SyncDirectory(directory);
        }

        return new Result(replay, segments, tailOffset, tailDirtyEnd, torn);
    }

    private static (long End, long DirtyEnd, TornTail? Torn) ScanRecords(string path, byte[] bytes, long fileLength, LogReplay replay, bool isLast)
    {
        var pos = WalFormat.SegmentHeaderSize;
        while (true)
        {
            Cover(ref bytes, pos, fileLength);
            var check = WalFormat.CheckRecord(bytes.AsSpan(pos), out var type, out var length, out var reason);
            if (check == RecordCheck.End)
            {
                // Beyond the end only zeros belong; in the last segment anything else is an unsynced write that half
                // landed after a hole. It is wiped before appending resumes so it can never be read as valid later.
                var dirtyEnd = isLast ? LastNonZero(bytes, pos) : pos;
                return (pos, dirtyEnd, isLast && dirtyEnd > pos ? new TornTail(path, pos, "unsynced data after the end of the log") : null);
            }

            if (check == RecordCheck.Bad)
            {
                if (isLast && !AnyValidRecordAfter(ref bytes, pos + 8, fileLength))
                {
                    return (pos, LastNonZero(bytes, pos), new TornTail(path, pos, reason!));
                }

                throw new StorageCorruptionException(path, pos, reason!);
            }

            var payload = bytes.AsSpan(pos + WalFormat.RecordHeaderSize, length);
            string? problem = null;
            switch (type)
            {
                case RecordType.Entry:
                    problem = replay.AddEntry(DecodeEntry(payload));
                    break;
                case RecordType.HardState:
                    replay.SetHardState(new HardState(
                        BinaryPrimitives.ReadUInt64LittleEndian(payload),
                        BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]),
                        BinaryPrimitives.ReadUInt64LittleEndian(payload[16..])));
                    break;
                case RecordType.SnapshotMarker:
                    replay.ApplySnapshotMarker(
                        BinaryPrimitives.ReadUInt64LittleEndian(payload),
                        BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]),
                        (BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]) & 1) != 0);
                    break;
            }

            if (problem is not null)
            {
                throw new StorageCorruptionException(path, pos, problem);
            }

            pos += (int)WalFormat.RecordSize(length);
        }
    }

    internal static Entry DecodeEntry(ReadOnlySpan<byte> payload)
    {
        var term = BinaryPrimitives.ReadUInt64LittleEndian(payload);
        var index = BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]);
        var type = (EntryType)payload[16];
        return new Entry(term, index, type, payload[WalFormat.EntryFixedSize..].ToArray());
    }

    private static bool AnyValidRecordAfter(ref byte[] bytes, int from, long fileLength)
    {
        for (var p = from; p + WalFormat.RecordHeaderSize <= bytes.Length; p += 8)
        {
            Cover(ref bytes, p, fileLength);
            if (WalFormat.CheckRecord(bytes.AsSpan(p), out _, out _, out _) == RecordCheck.Valid)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One past the last non-zero byte at or after <paramref name="from"/>, or <paramref name="from"/> if all zero.</summary>
    private static long LastNonZero(byte[] bytes, int from)
    {
        var tail = bytes.AsSpan(from);
        var last = tail.LastIndexOfAnyExcept((byte)0);
        return last < 0 ? from : from + last + 1;
    }

    /// <summary>
    /// Reads a segment's content: everything up to its last non-zero byte, plus a record header's worth of the zeros
    /// after it (or to the end of the file). Segments are preallocated (64 MiB by default) and mostly zeros after a
    /// crash, and reading one whole into a new array cost a restarting member ~0.6 s of CPU (allocating and faulting
    /// in 64 MiB, one huge kernel copy) for a few MiB of records: the CPU burst its restart took from the members that
    /// stayed up (issue 15, docs/benchmarks.md "Rejoin", third round). So it is read in chunks into one reused buffer
    /// and only chunks up to the last one holding data are kept. The rest of the file is still read, so data after
    /// a hole is still seen; it is known to be zeros, which <see cref="Cover"/> supplies where a record needs them.
    /// </summary>
    internal static (byte[] Bytes, long FileLength) ReadContent(IFileHandle handle, string path)
    {
        var length = handle.Length;
        if (length > int.MaxValue)
        {
            throw new StorageCorruptionException(path, 0, $"segment of {length} bytes is larger than any this build writes");
        }

        var chunk = new byte[(int)Math.Min(ReadChunkBytes, Math.Max(length, 1))];
        var content = new MemoryStream();
        long offset = 0;
        long zerosPending = 0; // zero chunks read since the last chunk holding data: kept only if data follows
        while (offset < length)
        {
            var want = (int)Math.Min(chunk.Length, length - offset);
            var read = handle.ReadAt(offset, chunk.AsSpan(0, want));
            if (read <= 0)
            {
                break;
            }

            var part = chunk.AsSpan(0, read);
            var lastData = part.LastIndexOfAnyExcept((byte)0);
            if (lastData < 0)
            {
                zerosPending += read;
            }
            else
            {
                content.SetLength(content.Length + zerosPending); // the zeros between, as zeros
                content.Position = content.Length;
                zerosPending = 0;
                content.Write(part[..(lastData + 1)]);
                zerosPending = read - (lastData + 1);
            }

            offset += read;
        }

        // The zeros right after the data, so a record header that starts in the data is whole, and at least the
        // segment header's length, so a zeroed segment is judged as before.
        var end = Math.Min(offset, Math.Max(content.Length + Math.Min(zerosPending, WalFormat.RecordHeaderSize), WalFormat.SegmentHeaderSize));
        content.SetLength(end);
        return (content.ToArray(), offset);
    }

    /// <summary>Bytes read at a time while scanning a segment.</summary>
    internal const int ReadChunkBytes = 1 << 20;

    /// <summary>
    /// Makes <paramref name="bytes"/> hold the whole record whose header is at <paramref name="pos"/>, if the file
    /// holds it: beyond the content read (<see cref="ReadContent"/>) a segment is all zeros, so a record whose payload
    /// or padding ends in zeros gets them appended and is checked exactly as if the whole file had been read.
    /// </summary>
    private static void Cover(ref byte[] bytes, int pos, long fileLength)
    {
        if ((long)pos + WalFormat.RecordHeaderSize > bytes.Length)
        {
            return; // no header starts here that holds data
        }

        var payload = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos));
        if (payload > int.MaxValue - 64)
        {
            return; // impossible length: CheckRecord reports it
        }

        var need = pos + WalFormat.RecordSize((int)payload);
        if (need > bytes.Length && need <= fileLength)
        {
            Array.Resize(ref bytes, (int)need);
        }
    }
}
