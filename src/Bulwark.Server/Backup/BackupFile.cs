using System.Buffers.Binary;
using System.Security.Cryptography;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Kv;

namespace Bulwark.Server.Backup;

/// <summary>
/// The backup file that `Maintenance.Snapshot` streams (and `etcdctl snapshot save` / `bulwark snapshot save` write):
/// the store snapshot as <see cref="MvccStore.WriteSnapshot"/> writes it (docs/kv.md "Snapshot format"), zeros up to
/// a multiple of <see cref="SectorBytes"/>, then the SHA-256 of all those bytes as the last 32 bytes, as etcd appends to
/// its own snapshot stream.
/// </summary>
public static class BackupFile
{
    /// <summary>
    /// The store bytes are padded to a multiple of this: etcdctl 3.4 and later refuse a saved file whose size is not
    /// 32 more than a multiple of 512 ("sha256 checksum not found"), since etcd's own (bolt) files are whole pages.
    /// The store snapshot ignores what follows its own checksum, and the SHA-256 covers the padding.
    /// </summary>
    public const int SectorBytes = 512;

    /// <summary>Length of the SHA-256 trailer.</summary>
    public const int HashLength = 32;

    /// <summary>
    /// Reads a backup file: checks the trailer against the SHA-256 of everything before it, then parses the store
    /// snapshot (which checks its own marker, version, ordering and XxHash64).
    /// </summary>
    /// <exception cref="InvalidDataException">Too short, checksum mismatch (truncated or corrupted), or not a Bulwark store snapshot.</exception>
    public static BackupSummary Read(Stream file) => Inspect(file, checkHash: true).Summary;

    /// <summary>
    /// Checks a backup file as <see cref="Read"/> does and also says how many of its bytes are the store snapshot
    /// (everything but the trailer). With <paramref name="checkHash"/> false (etcd's --skip-hash-check) the trailer
    /// is not compared, and a file whose size says it has none (not 32 past a whole number of sectors) is taken as
    /// all snapshot; the store snapshot's own XxHash64 still catches damage to what it holds.
    /// </summary>
    /// <exception cref="InvalidDataException">Too short, checksum mismatch, an etcd (bbolt) file, or not a Bulwark store snapshot.</exception>
    public static BackupContents Inspect(Stream file, bool checkHash)
    {
        ArgumentNullException.ThrowIfNull(file);
        long total = file.Length;
        var hasTrailer = checkHash || total % SectorBytes == HashLength;
        if (hasTrailer && total <= HashLength)
        {
            throw new InvalidDataException($"the file is {total} bytes, too short to be a snapshot with its {HashLength}-byte SHA-256 trailer (truncated?)");
        }

        if (IsEtcdDatabase(file))
        {
            throw new InvalidDataException(
                "this is an etcd (bbolt) snapshot, made by a real etcd: Bulwark cannot read etcd's database format. " +
                "Restore it with etcd's own tools, or take the backup from Bulwark (etcdctl or bulwark snapshot save against a Bulwark member)");
        }

        if (!StartsLikeAStoreSnapshot(file))
        {
            throw new InvalidDataException(
                $"the file does not start as a Bulwark snapshot does (\"{System.Text.Encoding.ASCII.GetString(MvccStore.SnapshotMagic)}\"): " +
                "it is not a Bulwark snapshot, or it is corrupted at its start");
        }

        long body = hasTrailer ? total - HashLength : total;
        var trailer = new byte[HashLength];
        if (hasTrailer)
        {
            file.Position = body;
            file.ReadExactly(trailer);
        }

        if (checkHash)
        {
            file.Position = 0;
            byte[] computed;
            using (var hashing = new BoundedStream(file, body))
            {
                computed = SHA256.HashData(hashing);
            }

            if (!CryptographicOperations.FixedTimeEquals(computed, trailer))
            {
                throw new InvalidDataException("the SHA-256 at the end of the file does not match its contents: the file is truncated or corrupted");
            }
        }

        file.Position = 0;
        MvccStore store;
        using (var snapshot = new BoundedStream(file, body))
        {
            store = MvccStore.ReadSnapshot(snapshot);
        }

        var hash = hasTrailer ? Convert.ToHexStringLower(trailer) : "";
        return new BackupContents(new BackupSummary(store.Revision, store.LiveKeyCount, total, hash), body, store.Alarms);
    }

    /// <summary>
    /// True when the file starts like a bolt database (etcd's own snapshot format): the first page's meta magic
    /// 0xED0CDAED after bolt's 16-byte page header. Recognised only to say what the file is; never read.
    /// </summary>
    private static bool IsEtcdDatabase(Stream file)
    {
        Span<byte> head = stackalloc byte[20];
        return ReadHead(file, head) == head.Length && BinaryPrimitives.ReadUInt32LittleEndian(head[16..]) == BoltMagic;
    }

    private static bool StartsLikeAStoreSnapshot(Stream file)
    {
        Span<byte> head = stackalloc byte[MvccStore.SnapshotMagic.Length];
        return ReadHead(file, head) == head.Length && head.SequenceEqual(MvccStore.SnapshotMagic);
    }

    private static int ReadHead(Stream file, Span<byte> head)
    {
        file.Position = 0;
        return file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
    }

    private const uint BoltMagic = 0xED0CDAED;

    /// <summary>Copies the first <paramref name="length"/> bytes of <paramref name="file"/> (the store snapshot) to <paramref name="destination"/>.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was signalled between two chunks.</exception>
    public static void CopyBody(Stream file, long length, Stream destination, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(destination);
        file.Position = 0;
        using var body = new BoundedStream(file, length);
        var buffer = new byte[1 << 20];
        int n;
        while ((n = body.Read(buffer)) > 0)
        {
            cancellation.ThrowIfCancellationRequested();
            destination.Write(buffer.AsSpan(0, n));
        }
    }

    /// <summary>Reads the first <c>length</c> bytes of an inner stream (left open), so parsers never see the trailer.</summary>
    private sealed class BoundedStream(Stream inner, long length) : Stream
    {
        private long remaining = length;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (remaining <= 0)
            {
                return 0;
            }

            int n = inner.Read(buffer[..(int)Math.Min(buffer.Length, remaining)]);
            remaining -= n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>What a backup file holds: the store revision, its live keys, the file size and its SHA-256 (hex).</summary>
public sealed record BackupSummary(long Revision, long TotalKeys, long TotalBytes, string Hash);

/// <summary>
/// A checked backup file: what it holds, how many of its leading bytes are the store snapshot, and the alarms its store
/// carries (the CORRUPT alarm is replicated, so a backup of a cluster under it holds it too).
/// </summary>
public sealed record BackupContents(BackupSummary Summary, long SnapshotBytes, IReadOnlyList<AlarmMember> Alarms);
