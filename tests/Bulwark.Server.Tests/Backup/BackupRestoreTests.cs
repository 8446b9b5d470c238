using System.Security.Cryptography;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Kv;
using Bulwark.Server.Backup;
using Bulwark.Server.Hosting;
using Bulwark.Storage;
using Bulwark.Storage.FileSystem;
using Google.Protobuf;

namespace Bulwark.Server.Tests.Backup;

/// <summary>`snapshot restore`'s data dir (what a member starts from) and its refusals (nothing written).</summary>
public sealed class BackupRestoreTests : IDisposable
{
    private const string Cluster = "n1=http://127.0.0.1:12380,n2=http://127.0.0.1:22380,n3=http://127.0.0.1:32380";
    private readonly string root = Directory.CreateTempSubdirectory("bulwark-restore-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static byte[] BackupBytes(out long revision)
    {
        var store = new MvccStore();
        var lease = store.LeaseGrant(new LeaseGrantRequest { ID = 7, TTL = 30 });
        for (var i = 0; i < 20; i++)
        {
            store.Put(new PutRequest { Key = ByteString.CopyFromUtf8($"k{i}"), Value = ByteString.CopyFromUtf8($"v{i}") });
        }

        store.Put(new PutRequest { Key = ByteString.CopyFromUtf8("leased"), Value = ByteString.CopyFromUtf8("x"), Lease = lease.ID });
        revision = store.Revision;
        using var bytes = new MemoryStream();
        store.WriteSnapshot(bytes);
        bytes.Write(new byte[(BackupFile.SectorBytes - (bytes.Length % BackupFile.SectorBytes)) % BackupFile.SectorBytes]);
        var body = bytes.ToArray();
        return [.. body, .. SHA256.HashData(body)];
    }

    private string WriteFile(string name, byte[] bytes)
    {
        var path = Path.Combine(root, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static RestoreResult Restore(string file, string name, string dataDir, bool skipHashCheck = false) =>
        BackupRestore.Restore(RestorePlan.Create(file, name, Cluster, PeerUrlOf(name), dataDir, null, skipHashCheck));

    private static string PeerUrlOf(string name) =>
        Cluster.Split(',').Single(e => e.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];

    [Fact]
    public void Every_member_starts_from_the_same_snapshot_with_the_new_membership_and_the_saved_store()
    {
        var file = WriteFile("backup.db", BackupBytes(out var revision));
        var images = new List<byte[]>();
        foreach (var name in new[] { "n1", "n2", "n3" })
        {
            var dir = Path.Combine(root, name);
            var result = Restore(file, name, dir);
            Assert.Equal(revision, result.Summary.Revision);
            Assert.Equal(ClusterMember.IdFromName(name), result.MemberId);

            using var storage = NodeStorage.Open(RealFileSystem.Instance, dir);
            var members = new[] { "n1", "n2", "n3" }.Select(ClusterMember.IdFromName).ToArray();
            var state = storage.BuildRaftState(Bulwark.Consensus.ClusterConfig.Of(members));
            Assert.Equal(3UL, state.Snapshot!.Index);
            Assert.Equal(1UL, state.Snapshot.Term);
            Assert.Equal(members.Order(), state.Snapshot.Config.Voters.Order());
            Assert.Equal(3UL, state.HardState.Commit);
            Assert.Empty(state.Entries);

            using var reader = storage.OpenSnapshot(3, 1);
            using var data = new MemoryStream();
            reader.CopyTo(data);
            images.Add(data.ToArray());
        }

        Assert.Equal(images[0], images[1]);
        Assert.Equal(images[0], images[2]);
        var (membersJson, kv) = SnapshotPayload.Decode(images[0]);
        var table = MemberTable.Deserialize(membersJson.Span);
        Assert.Equal(["n1", "n2", "n3"], table.Select(m => m.Name).Order());
        Assert.Equal(PeerUrlOf("n2"), table.Single(m => m.Name == "n2").PeerUrls.Single());

        var store = MvccStore.ReadSnapshot(new MemoryStream(kv.ToArray()));
        Assert.Equal(revision, store.Revision);
        Assert.Equal(21, store.LiveKeyCount);
        Assert.True(store.TryGetLease(7, out var lease));
        Assert.Equal(["leased"], lease!.Keys.Select(k => System.Text.Encoding.UTF8.GetString(k)));
        var next = store.Put(new PutRequest { Key = ByteString.CopyFromUtf8("after"), Value = ByteString.CopyFromUtf8("restore") });
        Assert.Equal(revision + 1, next.Header.Revision);
    }

    [Fact]
    public void A_backup_taken_under_the_corrupt_alarm_restores_without_it_and_keeps_the_data()
    {
        var store = new MvccStore();
        store.Put(new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") });
        store.Alarm(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Activate, MemberID = ClusterMember.IdFromName("n3"), Alarm = AlarmType.Corrupt });
        var revision = store.Revision;
        using var bytes = new MemoryStream();
        store.WriteSnapshot(bytes);
        bytes.Write(new byte[(BackupFile.SectorBytes - (bytes.Length % BackupFile.SectorBytes)) % BackupFile.SectorBytes]);
        var body = bytes.ToArray();
        var file = WriteFile("corrupt-alarm.db", [.. body, .. SHA256.HashData(body)]);

        var dir = Path.Combine(root, "n1");
        var result = Restore(file, "n1", dir);

        Assert.Equal(AlarmType.Corrupt, Assert.Single(result.DroppedAlarms).Alarm);
        using var storage = NodeStorage.Open(RealFileSystem.Instance, dir);
        using var reader = storage.OpenSnapshot(3, 1);
        using var data = new MemoryStream();
        reader.CopyTo(data);
        var restored = MvccStore.ReadSnapshot(new MemoryStream(SnapshotPayload.Decode(data.ToArray()).KvSnapshot.ToArray()));
        Assert.False(restored.HasAlarm(AlarmType.Corrupt));
        Assert.Empty(restored.Alarms);
        Assert.Equal(revision, restored.Revision);
        Assert.Equal("v", restored.Range(new RangeRequest { Key = ByteString.CopyFromUtf8("k") }).Kvs.Single().Value.ToStringUtf8());
    }

    [Fact]
    public void The_data_dir_defaults_to_name_etcd_and_may_be_an_empty_existing_directory()
    {
        var file = WriteFile("backup.db", BackupBytes(out _));
        var empty = Directory.CreateDirectory(Path.Combine(root, "mounted")).FullName;
        Restore(file, "n1", empty);
        Assert.True(Directory.Exists(Path.Combine(empty, "snap")));

        var plan = RestorePlan.Create(file, "n2", Cluster, PeerUrlOf("n2"), dataDir: null, null, skipHashCheck: false);
        Assert.Equal(Path.GetFullPath("n2.etcd"), plan.DataDir);
    }

    [Fact]
    public void Refuses_bad_files_and_writes_nothing()
    {
        var good = BackupBytes(out _);
        var corrupted = (byte[])good.Clone();
        corrupted[good.Length / 2] ^= 0x10;
        var bolt = new byte[4096];
        BitConverter.GetBytes(0xED0CDAEDu).CopyTo(bolt, 16);
        var cases = new (string File, byte[] Bytes, string Says)[]
        {
            ("truncated.db", good[..(good.Length / 2)], "truncated or corrupted"),
            ("corrupted.db", corrupted, "truncated or corrupted"),
            ("random.db", RandomNumberGenerator.GetBytes(5000), "not a Bulwark snapshot"),
            ("text.db", "key=value\nanother line of a text file\n"u8.ToArray(), "not a Bulwark snapshot"),
            ("etcd.db", bolt, "etcd (bbolt) snapshot"),
        };
        foreach (var (name, bytes, says) in cases)
        {
            var file = WriteFile(name, bytes);
            var before = Listing();
            var e = Assert.Throws<RestoreRefusedException>(() => Restore(file, "n1", Path.Combine(root, "new", "n1")));
            Assert.Contains(says, e.Message, StringComparison.Ordinal);
            Assert.Equal(before, Listing());
        }
    }

    [Fact]
    public void Refuses_bad_flags_and_a_data_dir_in_use_and_writes_nothing()
    {
        var file = WriteFile("backup.db", BackupBytes(out _));
        var used = Directory.CreateDirectory(Path.Combine(root, "used")).FullName;
        File.WriteAllText(Path.Combine(used, "something"), "x");
        var before = Listing();
        var target = Path.Combine(root, "n1");

        Assert.Equal($"data-dir \"{used}\" exists",
            Assert.Throws<RestoreRefusedException>(() => Restore(file, "n1", used)).Message);
        Assert.Contains("couldn't find local name \"n9\"",
            Assert.Throws<RestoreRefusedException>(() => RestorePlan.Create(file, "n9", Cluster, PeerUrlOf("n1"), target, null, false)).Message,
            StringComparison.Ordinal);
        Assert.Contains("missing from --initial-advertise-peer-urls",
            Assert.Throws<RestoreRefusedException>(() => RestorePlan.Create(file, "n1", Cluster, PeerUrlOf("n2"), target, null, false)).Message,
            StringComparison.Ordinal);
        Assert.Contains("is not a URL",
            Assert.Throws<RestoreRefusedException>(() => RestorePlan.Create(file, "n1", "n1=not-a-url", "not-a-url", target, null, false)).Message,
            StringComparison.Ordinal);
        Assert.Contains("only http",
            Assert.Throws<RestoreRefusedException>(() => RestorePlan.Create(file, "n1", "n1=ftp://h:1", "ftp://h:1", target, null, false)).Message,
            StringComparison.Ordinal);
        Assert.Contains("cannot read",
            Assert.Throws<RestoreRefusedException>(() => Restore(Path.Combine(root, "absent.db"), "n1", target)).Message,
            StringComparison.Ordinal);
        Assert.Equal(before, Listing());
    }

    [Fact]
    public void Skip_hash_check_takes_a_file_without_its_trailer_and_still_refuses_a_damaged_store()
    {
        var good = BackupBytes(out var revision);
        var bare = WriteFile("bare.db", good[..^BackupFile.HashLength]);
        Assert.Throws<RestoreRefusedException>(() => Restore(bare, "n1", Path.Combine(root, "n1")));
        Assert.Equal(revision, Restore(bare, "n1", Path.Combine(root, "n1"), skipHashCheck: true).Summary.Revision);

        var damaged = good[..^BackupFile.HashLength];
        damaged[40] ^= 0x01;
        var file = WriteFile("damaged.db", damaged);
        Assert.Throws<RestoreRefusedException>(() => Restore(file, "n2", Path.Combine(root, "n2"), skipHashCheck: true));
        Assert.False(Directory.Exists(Path.Combine(root, "n2")));
    }

    [Fact]
    public void A_cancelled_restore_removes_what_it_wrote()
    {
        var file = WriteFile("backup.db", BackupBytes(out _));
        var before = Listing();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var plan = RestorePlan.Create(file, "n1", Cluster, PeerUrlOf("n1"), Path.Combine(root, "new", "n1"), null, skipHashCheck: false);
        Assert.Throws<OperationCanceledException>(() => BackupRestore.Restore(plan, cancelled.Token));
        Assert.Equal(before, Listing());
    }

    /// <summary>Every path under the test's root (files and directories), to see that a refusal left nothing.</summary>
    private string[] Listing() =>
        [.. Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];
}
