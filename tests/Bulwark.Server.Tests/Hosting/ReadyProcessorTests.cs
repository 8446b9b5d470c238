using Bulwark.Api.Etcdserverpb;
using Bulwark.Consensus;
using Bulwark.Kv;
using Bulwark.Server.Hosting;
using Bulwark.Storage;
using Bulwark.Storage.FileSystem;
using Bulwark.Storage.Snapshots;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>The Ready handling without sockets or timers: a one-node cluster on an in-memory disk.</summary>
public sealed class ReadyProcessorTests
{
    private const ulong Id = 7;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private sealed class RecordingNetwork : IPeerNetwork
    {
        public List<Message> Sent { get; } = [];

        public void Send(Message message) => Sent.Add(message);

        public void AddPeer(ulong id, string peerUrl)
        {
        }

        public void RemovePeer(ulong id)
        {
        }
    }

    private static NodeHostOptions Options(ulong snapshotThreshold = 10_000, ulong catchUpEntries = NodeHostOptions.DefaultSnapshotCatchUpEntries) => new()
    {
        NodeId = Id,
        InitialCluster = [new ClusterMember(Id, "solo", ["http://127.0.0.1:1"], [])],
        DataDir = "/solo",
        AdvertiseClientUrls = ["http://127.0.0.1:2"],
        SnapshotThreshold = snapshotThreshold,
        SnapshotCatchUpEntries = catchUpEntries,
        RandomSeed = 3,
    };

    private static ReadyProcessor Leader(InMemoryFileSystem fs, PendingRequests pending, ulong snapshotThreshold = 10_000, ulong catchUpEntries = NodeHostOptions.DefaultSnapshotCatchUpEntries)
    {
        var processor = new ReadyProcessor(Options(snapshotThreshold, catchUpEntries), NodeStorage.Open(fs, "/solo"), new RecordingNetwork(), pending, NullLogger.Instance);
        for (var i = 0; i < 100 && !processor.Status.IsLeader; i++)
        {
            processor.Tick();
            processor.ProcessReadies();
        }

        Assert.True(processor.Status.IsLeader, "a one-node cluster elects itself");
        return processor;
    }

    private static byte[] PutCommand(ulong requestId, string key, string value) => new Bulwark.Api.RaftCmd.RaftCommand
    {
        RequestId = requestId,
        Header = new Bulwark.Api.RaftCmd.CommandHeader { OriginMemberId = Id },
        Put = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) },
    }.ToByteArray();

    [Fact]
    public void Proposals_arriving_between_readies_share_one_sync_and_all_complete()
    {
        var fs = new InMemoryFileSystem(seed: 1);
        var pending = new PendingRequests(100);
        using var processor = Leader(fs, pending);

        var waits = new List<Task<ApplyResult>>();
        for (ulong i = 1; i <= 50; i++)
        {
            waits.Add(pending.RegisterProposal(i));
            processor.Propose(i, PutCommand(i, $"k{i}", "v"));
        }

        var syncsBefore = fs.SyncCount;
        processor.ProcessReadies();
        Assert.True(processor.WaitUntilApplied(processor.Status.Commit, Patience), "the apply worker catches up");

        // One sync for the 50 entries, one for the commit index that follows them: not one per proposal.
        Assert.InRange(fs.SyncCount - syncsBefore, 1, 2);
        Assert.All(waits, w => Assert.True(w.IsCompletedSuccessfully && w.Result.Succeeded));
        Assert.Equal(waits.Select(w => w.Result.Revision).Order(), waits.Select(w => w.Result.Revision));
        Assert.Equal(50, processor.Read(s => s.Range(new RangeRequest { Key = ByteString.CopyFromUtf8("k"), RangeEnd = ByteString.CopyFromUtf8("l") })).Count);
    }

    [Theory]
    [InlineData(0UL)] // the log released exactly at each snapshot
    [InlineData(5UL)] // the log keeps a tail behind each snapshot, so it starts before the newest one
    [InlineData(NodeHostOptions.DefaultSnapshotCatchUpEntries)] // the whole log kept
    public void A_restarted_node_recovers_from_its_snapshot_and_log(ulong catchUpEntries)
    {
        var fs = new InMemoryFileSystem(seed: 2);
        var pending = new PendingRequests(100);
        using var processor = Leader(fs, pending, snapshotThreshold: 16, catchUpEntries);
        for (ulong i = 1; i <= 40; i++)
        {
            pending.RegisterProposal(i);
            processor.Propose(i, PutCommand(i, $"k{i:D2}", $"v{i}"));
            processor.ProcessReadies();
        }

        Assert.True(processor.WaitUntilApplied(processor.Status.Commit, Patience), "the apply worker catches up");
        processor.ProcessReadies();

        Assert.True(processor.Status.SnapshotIndex >= 16, "snapshots were taken");
        var revision = processor.Read(s => s.Revision);

        // Crash: unsynced data is lost; everything acknowledged was synced.
        fs.Crash();
        using var restarted = new ReadyProcessor(Options(16, catchUpEntries), NodeStorage.Open(fs, "/solo"), new RecordingNetwork(), new PendingRequests(1000), NullLogger.Instance);
        // The last entry's commit index rides the next sync, which the crash prevented (a log release used to sync it
        // by the way): the entry is durable, and the node commits it again once it leads.
        for (var i = 0; i < 100 && !restarted.Status.IsLeader; i++)
        {
            restarted.Tick();
            restarted.ProcessReadies();
        }

        Assert.True(restarted.Status.IsLeader, "the restarted node elects itself");
        Assert.True(restarted.WaitUntilApplied(restarted.Status.Commit, Patience), "the restarted node replays its log");
        Assert.Equal(revision, restarted.Read(s => s.Revision));
        for (var i = 1; i <= 40; i++)
        {
            var kv = restarted.Read(s => s.Range(new RangeRequest { Key = ByteString.CopyFromUtf8($"k{i:D2}") })).Kvs.Single();
            Assert.Equal($"v{i}", kv.Value.ToStringUtf8());
        }
    }

    [Fact]
    public void A_failed_fsync_surfaces_from_the_ready_handling()
    {
        var fs = new InMemoryFileSystem(seed: 3);
        var pending = new PendingRequests(100);
        using var processor = Leader(fs, pending);
        var wait = pending.RegisterProposal(1);
        processor.Propose(1, PutCommand(1, "k", "v"));
        fs.FailSyncAfter(1);
        Assert.Throws<WalSyncFailedException>(processor.ProcessReadies);
        Assert.False(wait.IsCompleted);
    }

    [Fact]
    public void A_damaged_snapshot_refuses_to_open_naming_file_and_offset()
    {
        var fs = new InMemoryFileSystem(seed: 4);
        var files = SnapshotStore.Open(fs, "/solo/snap");
        var snapshot = new Snapshot(new SnapshotMetadata(5, 2, ClusterConfig.Of(1, 2, 3)), new byte[] { 1, 2, 3, 4 });
        files.Save(snapshot.Metadata, snapshot.Data.Span);
        var loaded = files.LoadNewest()!;
        Assert.Equal(snapshot.Metadata, loaded.Metadata);
        Assert.Equal(snapshot.Data.ToArray(), loaded.Data.ToArray());

        var path = "/solo/snap/" + fs.ListFiles("/solo/snap").Single();
        fs.CorruptByte(path, 20, 0x40);
        var error = Assert.Throws<StorageCorruptionException>(() => NodeStorage.Open(fs, "/solo"));
        Assert.Equal(path, error.FilePath);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }
}
