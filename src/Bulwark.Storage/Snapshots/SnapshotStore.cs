using Bulwark.Consensus;
using Bulwark.Storage.FileSystem;

namespace Bulwark.Storage.Snapshots;

/// <summary>
/// Snapshot files in one directory, named by index and term. Written to a temporary file, fsynced, renamed atomically and
/// the directory fsynced; checksummed end to end; the newest <see cref="Keep"/> are kept.
/// A damaged newest snapshot is never skipped silently: the WAL may already have released what an older one would need.
/// </summary>
public sealed class SnapshotStore
{
    private readonly IFileSystem fs;
    private long tempCounter;

    private SnapshotStore(IFileSystem fs, string directory, int keep)
    {
        this.fs = fs;
        Directory = directory;
        Keep = keep;
    }

    public string Directory { get; }

    /// <summary>How many snapshots are kept (the newest ones).</summary>
    public int Keep { get; }

    /// <summary>Opens (or creates) the store and removes temporary files left by an interrupted write.</summary>
    public static SnapshotStore Open(IFileSystem fs, string directory, int keep = 2)
    {
        ArgumentNullException.ThrowIfNull(fs);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        directory = PathUtil.Normalize(directory);
        if (!fs.DirectoryExists(directory))
        {
            fs.CreateDirectory(directory);
        }

        var removed = false;
        foreach (var name in fs.ListFiles(directory))
        {
            if (name.EndsWith(SnapshotFormat.TempExtension, StringComparison.Ordinal))
            {
                fs.Delete(PathUtil.Combine(directory, name));
                removed = true;
            }
        }

        if (removed)
        {
            fs.SyncDirectory(directory);
        }

        return new SnapshotStore(fs, directory, keep);
    }

    /// <summary>Index and term of the snapshots present, newest first.</summary>
    public IReadOnlyList<(ulong Index, ulong Term)> List()
    {
        var found = new List<(ulong Index, ulong Term)>();
        foreach (var name in fs.ListFiles(Directory))
        {
            if (SnapshotFormat.TryParseName(name, out var index, out var term))
            {
                found.Add((index, term));
            }
        }

        found.Sort((a, b) => b.Index != a.Index ? b.Index.CompareTo(a.Index) : b.Term.CompareTo(a.Term));
        return found;
    }

    /// <summary>Starts writing a snapshot; write the data to the returned stream, then <see cref="SnapshotWriter.Commit"/>.</summary>
    public SnapshotWriter BeginWrite(SnapshotMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var temp = PathUtil.Combine(Directory, $"{SnapshotFormat.FileName(metadata.Index, metadata.Term)}.{++tempCounter}{SnapshotFormat.TempExtension}");
        IFileHandle file;
        try
        {
            file = fs.Open(temp, OpenMode.OpenOrCreate);
            file.Truncate(0);
        }
        catch (NoSpaceLeftOnDeviceException e)
        {
            throw new DiskFullException($"cannot create snapshot file '{temp}'", e);
        }

        return new SnapshotWriter(this, file, temp, metadata);
    }

    /// <summary>Writes a whole snapshot from memory.</summary>
    public void Save(SnapshotMetadata metadata, ReadOnlySpan<byte> data)
    {
        using var writer = BeginWrite(metadata);
        writer.Write(data);
        writer.Commit();
    }

    /// <summary>Opens the newest snapshot for streaming, or null if there is none. Damage throws <see cref="StorageCorruptionException"/>.</summary>
    public SnapshotReader? OpenNewest()
    {
        var all = List();
        return all.Count == 0 ? null : OpenRead(all[0].Index, all[0].Term);
    }

    public SnapshotReader OpenRead(ulong index, ulong term) =>
        SnapshotReader.Open(fs, PathUtil.Combine(Directory, SnapshotFormat.FileName(index, term)));

    /// <summary>Loads and fully verifies the newest snapshot, or null if there is none.</summary>
    public Snapshot? LoadNewest()
    {
        using var reader = OpenNewest();
        if (reader is null)
        {
            return null;
        }

        var data = reader.ReadAllData();
        return new Snapshot(reader.Metadata, data);
    }

    /// <summary>
    /// Deletes every snapshot older than <paramref name="index"/> (defragment: once the log is released to the snapshot
    /// at <paramref name="index"/>, the older ones are never read again); returns how many went.
    /// </summary>
    public int DeleteOlderThan(ulong index)
    {
        var deleted = 0;
        foreach (var (olderIndex, term) in List())
        {
            if (olderIndex < index)
            {
                fs.Delete(PathUtil.Combine(Directory, SnapshotFormat.FileName(olderIndex, term)));
                deleted++;
            }
        }

        if (deleted > 0)
        {
            fs.SyncDirectory(Directory);
        }

        return deleted;
    }

    /// <summary>Bytes of the files in the store's directory (snapshots, and a temporary file while one is written).</summary>
    public long FileBytes() => DirectorySize.Of(fs, Directory);

    internal void Publish(SnapshotWriter writer)
    {
        var final = PathUtil.Combine(Directory, SnapshotFormat.FileName(writer.Metadata.Index, writer.Metadata.Term));
        fs.Rename(writer.TempPath, final);
        fs.SyncDirectory(Directory);
        var all = List();
        var pruned = false;
        for (var i = Keep; i < all.Count; i++)
        {
            fs.Delete(PathUtil.Combine(Directory, SnapshotFormat.FileName(all[i].Index, all[i].Term)));
            pruned = true;
        }

        if (pruned)
        {
            fs.SyncDirectory(Directory);
        }
    }

    internal void Discard(string tempPath)
    {
        try
        {
            if (fs.FileExists(tempPath))
            {
                fs.Delete(tempPath);
            }
        }
        catch (IOException)
        {
            // Best effort: leftovers are removed by the next Open.
        }
    }
}
