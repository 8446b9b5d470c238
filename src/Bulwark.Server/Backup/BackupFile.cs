using System.Security.Cryptography;
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
    public static BackupSummary Read(Stream file)
    {
        ArgumentNullException.ThrowIfNull(file);
        long total = file.Length;
        if (total <= HashLength)
        {
            throw new InvalidDataException($"the file is {total} bytes, too short to be a snapshot with its {HashLength}-byte SHA-256 trailer (truncated?)");
        }

        long body = total - HashLength;
        file.Position = 0;
        byte[] computed;
        using (var hashing = new BoundedStream(file, body))
        {
            computed = SHA256.HashData(hashing);
        }

        var trailer = new byte[HashLength];
        file.Position = body;
        file.ReadExactly(trailer);
        if (!CryptographicOperations.FixedTimeEquals(computed, trailer))
        {
            throw new InvalidDataException("the SHA-256 at the end of the file does not match its contents: the file is truncated or corrupted");
        }

        file.Position = 0;
        MvccStore store;
        using (var snapshot = new BoundedStream(file, body))
        {
            store = MvccStore.ReadSnapshot(snapshot);
        }

        return new BackupSummary(store.Revision, store.LiveKeyCount, total, Convert.ToHexStringLower(trailer));
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
