using Bulwark.Api.Etcdserverpb;
using Bulwark.Consensus;
using Bulwark.Kv;
using Bulwark.Server.Hosting;
using Bulwark.Storage;
using Bulwark.Storage.FileSystem;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>
/// The seams the deterministic simulator drives the production host through (<see cref="HostDriver"/>): a Ready in two
/// phases with the sync between them, and the apply worker inline on the caller.
/// </summary>
public sealed class HostDriverTests
{
    private const ulong Id = 7;

    private sealed class RecordingObserver : IHostTestObserver
    {
        public List<Ready> WrittenReadies { get; } = [];

        public List<(Entry Entry, int Thread)> AppliedEntries { get; } = [];

        public void Written(Ready ready) => WrittenReadies.Add(ready);

        public void Applied(Entry entry, ClusterConfig config, Bulwark.Kv.MvccStore store) => AppliedEntries.Add((entry, Environment.CurrentManagedThreadId));

        public void Installed(SnapshotMetadata metadata)
        {
        }
    }

    private static NodeHostOptions Options() => new()
    {
        NodeId = Id,
        InitialCluster = [new ClusterMember(Id, "solo", ["http://127.0.0.1:1"], [])],
        DataDir = "/solo",
        RandomSeed = 3,
    };

    private static ReadyProcessor Start(InMemoryFileSystem fs, PendingRequests pending, RecordingObserver observer) =>
        new(Options(), NodeStorage.Open(fs, "/solo"), new NullPeerNetwork(), pending, NullLogger.Instance,
            driver: new HostDriver { InlineApply = true, TestObserver = observer });

    /// <summary>Elects the one-node cluster and applies what that commits, both phases back to back.</summary>
    private static void ElectAndSettle(ReadyProcessor processor)
    {
        for (var i = 0; i < 100 && !processor.Status.IsLeader; i++)
        {
            processor.Tick();
            processor.ProcessReadies();
        }

        Assert.True(processor.Status.IsLeader, "a one-node cluster elects itself");
        processor.ProcessReadies();
    }

    private static byte[] Put(ulong requestId, string key) => new Bulwark.Api.RaftCmd.RaftCommand
    {
        RequestId = requestId,
        Header = new Bulwark.Api.RaftCmd.CommandHeader { OriginMemberId = Id },
        Put = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8("v") },
    }.ToByteArray();

    [Fact]
    public void A_ready_written_but_not_yet_synced_is_lost_in_a_crash()
    {
        var fs = new InMemoryFileSystem(seed: 1);
        var processor = Start(fs, new PendingRequests(100), new RecordingObserver());
        ElectAndSettle(processor);
        var lastBefore = processor.CoreStatus().LastIndex;

        processor.Propose(1, Put(1, "k"));
        var ready = processor.BeginReady();

        Assert.NotNull(ready);
        Assert.True(ready.MustSync);
        Assert.Contains(ready.Entries, e => e.Index == lastBefore + 1);
        Assert.Null(processor.BeginReady()); // one Ready at a time: the written one waits for its sync
        fs.Crash();
        using var recovered = NodeStorage.Open(fs, "/solo");
        Assert.DoesNotContain(recovered.BuildRaftState(ClusterConfig.Of(Id)).Entries, e => e.Index > lastBefore);
    }

    [Fact]
    public void A_completed_ready_survives_a_crash()
    {
        var fs = new InMemoryFileSystem(seed: 2);
        var processor = Start(fs, new PendingRequests(100), new RecordingObserver());
        ElectAndSettle(processor);
        var lastBefore = processor.CoreStatus().LastIndex;

        processor.Propose(1, Put(1, "k"));
        Assert.NotNull(processor.BeginReady());
        processor.CompleteReady();
        fs.Crash();
        using var recovered = NodeStorage.Open(fs, "/solo");
        Assert.Contains(recovered.BuildRaftState(ClusterConfig.Of(Id)).Entries, e => e.Index == lastBefore + 1);
    }

    [Fact]
    public void The_inline_apply_worker_applies_and_answers_on_the_caller_before_the_hand_off_returns()
    {
        var fs = new InMemoryFileSystem(seed: 3);
        var pending = new PendingRequests(100);
        var observer = new RecordingObserver();
        var processor = Start(fs, pending, observer);
        ElectAndSettle(processor);

        var call = pending.RegisterProposal(1);
        processor.Propose(1, Put(1, "k"));
        processor.ProcessReadies();

        // No waiting: the entry was applied, and the call completed, inside ProcessReadies on this thread.
        Assert.True(call.IsCompletedSuccessfully);
        Assert.Equal(processor.Status.Commit, processor.Applied);
        Assert.Single(processor.Read(s => s.Range(new RangeRequest { Key = ByteString.CopyFromUtf8("k") })).Kvs);
        Assert.NotEmpty(observer.AppliedEntries);
        Assert.All(observer.AppliedEntries, a => Assert.Equal(Environment.CurrentManagedThreadId, a.Thread));
        Assert.Contains(observer.WrittenReadies, r => !r.Entries.IsEmpty);
    }
}
