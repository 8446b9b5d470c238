using Bulwark.Kv;

namespace Bulwark.Server.Backup;

/// <summary>
/// A consistent store snapshot at one revision, written to a temporary file in the data directory so the store is
/// never copied in memory. The file is deleted when this is disposed (and, being opened delete-on-close, also when the
/// process ends without disposing it normally; what a crash leaves behind is deleted when the member starts again).
/// </summary>
public sealed class StoreBackup : IDisposable
{
    /// <summary>The data directory's subdirectory holding backups being streamed.</summary>
    public const string DirectoryName = "backup-tmp";

    private StoreBackup(FileStream file, long revision)
    {
        File = file;
        Revision = revision;
    }

    /// <summary>The store snapshot bytes, zero-padded to whole sectors, without the SHA-256 trailer; positioned at 0.</summary>
    public FileStream File { get; }

    /// <summary>The store revision the snapshot holds.</summary>
    public long Revision { get; }

    /// <summary>
    /// Serializes the store into a new temporary file under <paramref name="dataDir"/>. <paramref name="readStore"/>
    /// runs the write under the store's lock, so the apply path waits for the serialization (not for the streaming).
    /// </summary>
    public static StoreBackup Write(string dataDir, Func<Func<MvccStore, long>, long> readStore)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDir);
        ArgumentNullException.ThrowIfNull(readStore);
        var directory = Path.Combine(dataDir, DirectoryName);
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"{Guid.NewGuid():N}.tmp");
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024, FileOptions.DeleteOnClose);
        try
        {
            var revision = readStore(store =>
            {
                store.WriteSnapshot(file);
                return store.Revision;
            });

            // Outside the lock: zeros up to a whole number of sectors (see BackupFile.SectorBytes).
            var padding = (int)((BackupFile.SectorBytes - (file.Length % BackupFile.SectorBytes)) % BackupFile.SectorBytes);
            file.Write(new byte[padding]);
            file.Flush();
            file.Position = 0;
            return new StoreBackup(file, revision);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Deletes what a crash during a backup left in <paramref name="dataDir"/> (run at start, before any backup).
    /// Only files of <see cref="DirectoryName"/> are touched.
    /// </summary>
    public static void DeleteLeftovers(string dataDir)
    {
        var directory = Path.Combine(dataDir, DirectoryName);
        if (Directory.Exists(directory))
        {
            foreach (var leftover in Directory.EnumerateFiles(directory, "*.tmp"))
            {
                System.IO.File.Delete(leftover);
            }
        }
    }

    public void Dispose() => File.Dispose();
}
