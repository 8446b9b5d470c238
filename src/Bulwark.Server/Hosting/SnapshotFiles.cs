using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using Bulwark.Consensus;
using Bulwark.Storage;
using Bulwark.Storage.FileSystem;

namespace Bulwark.Server.Hosting;

/// <summary>
/// This node's snapshot files: one file per snapshot, named by index and term, written to a temporary name, synced,
/// renamed and the directory synced, so a crash leaves either the whole file or none. Each file is checksummed
/// (CRC32C); a damaged newest file is corruption and the node refuses to start.
/// </summary>
/// <remarks>
/// Layout: magic "BWSNAP01", index u64, term u64, three id sets (voters, learners, outgoing voters) each as a u32
/// count and u64 ids, payload length u64, payload, CRC32C u32 of everything before it. All little-endian.
/// </remarks>
public sealed class SnapshotFiles
{
    private const string Suffix = ".snap";
    private const int Keep = 2;
    private static readonly byte[] Magic = "BWSNAP01"u8.ToArray();

    private readonly IFileSystem fs;

    public SnapshotFiles(IFileSystem fs, string directory)
    {
        ArgumentNullException.ThrowIfNull(fs);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        this.fs = fs;
        Directory = directory;
        fs.CreateDirectory(directory);
        foreach (var name in fs.ListFiles(directory).Where(n => n.EndsWith(".tmp", StringComparison.Ordinal)))
        {
            fs.Delete(System.IO.Path.Combine(directory, name));
        }
    }

    public string Directory { get; }

    /// <summary>Writes a snapshot durably and removes all but the newest few.</summary>
    public void Save(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var bytes = Encode(snapshot);
        var name = FileName(snapshot.Metadata.Index, snapshot.Metadata.Term);
        var tmp = System.IO.Path.Combine(Directory, name + ".tmp");
        using (var handle = fs.Open(tmp, OpenMode.OpenOrCreate))
        {
            handle.Truncate(0);
            handle.Append(bytes);
            handle.Flush();
            handle.DataSync();
        }

        fs.Rename(tmp, System.IO.Path.Combine(Directory, name));
        fs.SyncDirectory(Directory);
        foreach (var old in SnapshotNames().Skip(Keep))
        {
            fs.Delete(System.IO.Path.Combine(Directory, old));
        }
    }

    /// <summary>The newest snapshot, or null when there is none.</summary>
    /// <exception cref="StorageCorruptionException">The newest snapshot file fails its checks.</exception>
    public Snapshot? LoadNewest()
    {
        var newest = SnapshotNames().FirstOrDefault();
        return newest is null ? null : Load(System.IO.Path.Combine(Directory, newest));
    }

    private IEnumerable<string> SnapshotNames() =>
        fs.ListFiles(Directory).Where(n => n.EndsWith(Suffix, StringComparison.Ordinal)).OrderDescending(StringComparer.Ordinal);

    private static string FileName(ulong index, ulong term) =>
        string.Create(CultureInfo.InvariantCulture, $"{index:x16}-{term:x16}{Suffix}");

    private Snapshot Load(string path)
    {
        byte[] bytes;
        using (var handle = fs.Open(path, OpenMode.OpenExisting))
        {
            bytes = new byte[handle.Length];
            var read = 0;
            while (read < bytes.Length)
            {
                var n = handle.ReadAt(read, bytes.AsSpan(read));
                if (n <= 0)
                {
                    throw new StorageCorruptionException(path, read, $"file ended after {read} of {bytes.Length} bytes");
                }

                read += n;
            }
        }

        return Decode(path, bytes);
    }

    internal static byte[] Encode(Snapshot snapshot)
    {
        var meta = snapshot.Metadata;
        var config = meta.Config;
        var idCount = config.Voters.Count + config.Learners.Count + config.OutgoingVoters.Count;
        var size = Magic.Length + 16 + 12 + (8 * idCount) + 8 + snapshot.Data.Length + 4;
        var buffer = new byte[size];
        var span = buffer.AsSpan();
        Magic.CopyTo(span);
        var at = Magic.Length;
        BinaryPrimitives.WriteUInt64LittleEndian(span[at..], meta.Index);
        BinaryPrimitives.WriteUInt64LittleEndian(span[(at + 8)..], meta.Term);
        at += 16;
        foreach (var set in new[] { config.Voters, config.Learners, config.OutgoingVoters })
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span[at..], (uint)set.Count);
            at += 4;
            foreach (var id in set)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(span[at..], id);
                at += 8;
            }
        }

        BinaryPrimitives.WriteUInt64LittleEndian(span[at..], (ulong)snapshot.Data.Length);
        at += 8;
        snapshot.Data.Span.CopyTo(span[at..]);
        at += snapshot.Data.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], Crc32C.Compute(span[..at]));
        return buffer;
    }

    internal static Snapshot Decode(string path, byte[] bytes)
    {
        var span = bytes.AsSpan();
        if (bytes.Length < Magic.Length + 16 + 12 + 8 + 4 || !span[..Magic.Length].SequenceEqual(Magic))
        {
            throw new StorageCorruptionException(path, 0, "not a Bulwark snapshot file (bad magic or too short)");
        }

        var crcAt = bytes.Length - 4;
        if (Crc32C.Compute(span[..crcAt]) != BinaryPrimitives.ReadUInt32LittleEndian(span[crcAt..]))
        {
            throw new StorageCorruptionException(path, crcAt, "snapshot checksum mismatch");
        }

        var at = Magic.Length;
        var index = BinaryPrimitives.ReadUInt64LittleEndian(span[at..]);
        var term = BinaryPrimitives.ReadUInt64LittleEndian(span[(at + 8)..]);
        at += 16;
        var sets = new ImmutableSortedSet<ulong>[3];
        for (var s = 0; s < 3; s++)
        {
            var count = BinaryPrimitives.ReadUInt32LittleEndian(span[at..]);
            at += 4;
            if ((ulong)count * 8 > (ulong)(crcAt - at))
            {
                throw new StorageCorruptionException(path, at - 4, $"id set of {count} entries overruns the file");
            }

            var builder = ImmutableSortedSet.CreateBuilder<ulong>();
            for (var i = 0; i < count; i++)
            {
                builder.Add(BinaryPrimitives.ReadUInt64LittleEndian(span[at..]));
                at += 8;
            }

            sets[s] = builder.ToImmutable();
        }

        var length = BinaryPrimitives.ReadUInt64LittleEndian(span[at..]);
        at += 8;
        if (length != (ulong)(crcAt - at))
        {
            throw new StorageCorruptionException(path, at - 8, $"payload length {length} does not match the {crcAt - at} bytes present");
        }

        var config = new ClusterConfig(sets[0], sets[1], sets[2]);
        return new Snapshot(new SnapshotMetadata(index, term, config), bytes.AsMemory(at, (int)length));
    }
}
