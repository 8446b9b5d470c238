using Bulwark.Api.Etcdserverpb;
using Bulwark.Consensus;
using Bulwark.Kv;
using Bulwark.Server.Hosting;
using Bulwark.Storage;
using Bulwark.Storage.FileSystem;

namespace Bulwark.Server.Backup;

/// <summary>
/// Builds the data directory of one member of a new cluster from a backup file, as etcdctl 3.4's `snapshot restore`
/// does for etcd: the store as the file holds it (so revisions go on from the file's), and a fresh membership, the
/// plan's initial cluster (the backed-up member table is dropped). The directory is what a member that had been
/// running would leave: a node snapshot at index <see cref="RestoredIndex"/> (= number of members, as etcd commits one
/// entry per member) and term <see cref="RestoredTerm"/>, a log released up to it and a hard state committing it. Every
/// member restored from the same file with the same initial cluster gets the same snapshot at the same index and term,
/// so a leader finds each follower's log matching at that index and never needs to send a snapshot.
/// </summary>
/// <remarks>
/// Nothing is written until the file checked (SHA-256, then the whole store parsed); the directory is built beside the
/// target under a temporary name, reopened as a member would open it, and only then renamed into place, so a refused or
/// failed restore leaves no partial data dir behind.
/// </remarks>
public static class BackupRestore
{
    /// <summary>Term of the restored snapshot: the first term, as etcd restores at term 1.</summary>
    public const ulong RestoredTerm = 1;

    /// <summary>Index of the restored snapshot for a cluster of <paramref name="members"/> members (etcd's: one per member).</summary>
    public static ulong RestoredIndex(int members) => (ulong)members;

    /// <exception cref="RestoreRefusedException">The file cannot be read or does not check; the data dir appeared meanwhile.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (Ctrl-C); what was written so far is removed.</exception>
    public static RestoreResult Restore(RestorePlan plan, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        using var file = OpenSnapshot(plan.SnapshotFile);
        BackupContents contents;
        try
        {
            contents = BackupFile.Inspect(file, checkHash: !plan.SkipHashCheck);
        }
        catch (InvalidDataException e)
        {
            throw new RestoreRefusedException($"{plan.SnapshotFile} cannot be restored: {e.Message}", e);
        }

        var metadata = new SnapshotMetadata(RestoredIndex(plan.InitialCluster.Count), RestoredTerm,
            ClusterConfig.Of([.. plan.InitialCluster.Select(m => m.Id)]));
        var parent = Path.GetDirectoryName(plan.DataDir) ?? throw new RestoreRefusedException($"data-dir \"{plan.DataDir}\" has no parent directory");
        var createdAncestor = FirstMissingAncestor(parent);
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, $".{Path.GetFileName(plan.DataDir)}.restore-{Guid.NewGuid():N}");
        try
        {
            Write(temp, metadata, plan.InitialCluster, file, contents, cancellation);
            CheckReopens(temp, metadata);
            cancellation.ThrowIfCancellationRequested();
            MoveIntoPlace(temp, plan.DataDir);
            RealFileSystem.Instance.SyncDirectory(parent);
        }
        catch
        {
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }

            if (createdAncestor is not null && Directory.Exists(createdAncestor) && !Directory.Exists(plan.DataDir))
            {
                Directory.Delete(createdAncestor, recursive: true);
            }

            throw;
        }

        return new RestoreResult(contents.Summary, plan.Self.Id, plan.ClusterId, metadata.Index, metadata.Term, contents.Alarms);
    }

    private static FileStream OpenSnapshot(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RestoreRefusedException($"cannot read {path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// The node snapshot (member table + the file's store), the log released to it, a hard state committing it. The
    /// store's bytes are copied as the file holds them, except when the store carries alarms: those belong to the old
    /// cluster's members (a CORRUPT alarm would refuse every write of the cluster restored to recover from it), so the
    /// store is read again, its alarms dropped and written anew.
    /// </summary>
    private static void Write(string directory, SnapshotMetadata metadata, IReadOnlyList<ClusterMember> members, Stream file,
        BackupContents contents, CancellationToken cancellation)
    {
        var membersJson = new MemberTable(members).Serialize();
        using var storage = NodeStorage.Open(RealFileSystem.Instance, directory);
        Action<Stream> writeStore = contents.Alarms.Count == 0
            ? kv => BackupFile.CopyBody(file, contents.SnapshotBytes, kv, cancellation)
            : kv => WithoutAlarms(file, contents).WriteSnapshot(kv);
        storage.WriteSnapshot(metadata, stream => SnapshotPayload.Write(stream, membersJson, writeStore));
        storage.ReleaseLogUpTo(metadata.Index, metadata.Term);
        storage.Wal.SaveHardState(new HardState(metadata.Term, 0, metadata.Index));
        storage.Wal.Sync();
    }

    private static MvccStore WithoutAlarms(Stream file, BackupContents contents)
    {
        file.Position = 0;
        using var body = new MemoryStream();
        BackupFile.CopyBody(file, contents.SnapshotBytes, body);
        body.Position = 0;
        var store = MvccStore.ReadSnapshot(body);
        foreach (var alarm in contents.Alarms)
        {
            store.Alarm(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Deactivate, MemberID = alarm.MemberID, Alarm = alarm.Alarm });
        }

        return store;
    }

    /// <summary>Opens the new directory as `bulwark serve` will (verifying the snapshot's checksum) and checks where it starts.</summary>
    private static void CheckReopens(string directory, SnapshotMetadata metadata)
    {
        using var storage = NodeStorage.Open(RealFileSystem.Instance, directory);
        var state = storage.BuildRaftState(metadata.Config);
        if (state.Snapshot is not { } snapshot || snapshot.Index != metadata.Index || snapshot.Term != metadata.Term ||
            state.HardState.Commit != metadata.Index || !state.Entries.IsEmpty)
        {
            throw new InvalidOperationException(
                $"the restored data dir does not start where it should: snapshot {state.Snapshot?.Index}@{state.Snapshot?.Term}, " +
                $"commit {state.HardState.Commit}, {state.Entries.Length} entries (expected snapshot {metadata.Index}@{metadata.Term})");
        }
    }

    /// <summary>Renames the built directory to the data dir; into an existing empty one (a mount point), moves its contents.</summary>
    private static void MoveIntoPlace(string temp, string dataDir)
    {
        if (!Directory.Exists(dataDir))
        {
            try
            {
                Directory.Move(temp, dataDir);
                return;
            }
            catch (IOException) when (Directory.Exists(dataDir) || File.Exists(dataDir))
            {
                throw new RestoreRefusedException($"data-dir \"{dataDir}\" exists (it appeared while restoring)");
            }
        }

        if (Directory.EnumerateFileSystemEntries(dataDir).Any())
        {
            throw new RestoreRefusedException($"data-dir \"{dataDir}\" exists (it was filled while restoring)");
        }

        foreach (var entry in Directory.EnumerateDirectories(temp))
        {
            Directory.Move(entry, Path.Combine(dataDir, Path.GetFileName(entry)));
        }

        RealFileSystem.Instance.SyncDirectory(dataDir);
        Directory.Delete(temp, recursive: true);
    }

    private static string? FirstMissingAncestor(string directory)
    {
        string? missing = null;
        for (var current = directory; !string.IsNullOrEmpty(current) && !Directory.Exists(current); current = Path.GetDirectoryName(current))
        {
            missing = current;
        }

        return missing;
    }
}

/// <summary>What a restore built: the file's summary, this member's id, the cluster id, the snapshot's index and term, and the old cluster's alarms it dropped.</summary>
public sealed record RestoreResult(BackupSummary Summary, ulong MemberId, ulong ClusterId, ulong Index, ulong Term, IReadOnlyList<AlarmMember> DroppedAlarms);
