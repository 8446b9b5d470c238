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
            var bytes = ReadAll(path);
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
            var (end, dirtyEnd, tornHere) = ScanRecords(path, bytes, replay, isLast);
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

    private (long End, long DirtyEnd, TornTail? Torn) ScanRecords(string path, byte[] bytes, LogReplay replay, bool isLast)
    {
        var pos = WalFormat.SegmentHeaderSize;
        while (true)
        {
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
                if (isLast && !AnyValidRecordAfter(bytes, pos + 8))
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

    private static bool AnyValidRecordAfter(byte[] bytes, int from)
    {
        for (var p = from; p + WalFormat.RecordHeaderSize <= bytes.Length; p += 8)
        {
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

    private byte[] ReadAll(string path)
    {
        using var handle = fs.Open(path, OpenMode.OpenExisting);
        var length = handle.Length;
        if (length > int.MaxValue)
        {
            throw new StorageCorruptionException(path, 0, $"segment of {length} bytes is larger than any this build writes");
        }

        var bytes = new byte[length];
        var read = handle.ReadAt(0, bytes);
        return read == bytes.Length ? bytes : bytes[..read];
    }
}
