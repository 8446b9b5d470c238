using Bulwark.Server.Admin;
using Bulwark.Server.Observability;
using Bulwark.Server.Tests.Api;
using Bulwark.Server.Tests.Hosting;
using Bulwark.TestSupport;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Server.Tests.Observability;

/// <summary>
/// What the status page knows from before a restart (restart count, leader history), read from the journal; and the
/// vital signs every member serves to the others' pages.
/// </summary>
public sealed class JournalHistoryTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "bulwark-history-" + Guid.NewGuid().ToString("N")[..12]);

    [Fact]
    public void Starts_and_leader_changes_are_read_from_every_journal_file_oldest_first_skipping_torn_lines()
    {
        Directory.CreateDirectory(dir);
        File.WriteAllLines(Path.Combine(dir, EventJournal.FileName + ".2"),
        [
            """{"ts":"2026-12-01T10:00:00.000Z","event":"observation_start","nodes":["a","b"]}""",
            """{"ts":"2026-12-01T10:00:00.001Z","event":"node_started","node":"a","term":0}""",
            """{"ts":"2026-12-01T10:00:01.000Z","event":"leader_changed","node":"a","leader":"b","leader_id":"b2","term":2}""",
        ]);
        File.WriteAllLines(Path.Combine(dir, EventJournal.FileName + ".1"),
        [
            """{"ts":"2026-12-02T10:00:00.000Z","event":"node_started","node":"a","term":2}""",
            """not json at all""",
            """{"ts":"2026-12-02T10:00:01.000Z","event":"leader_changed","node":"a","leader":"a","leader_id":"a1","term":3}""",
        ]);
        File.WriteAllText(Path.Combine(dir, EventJournal.FileName),
            """{"ts":"2026-12-03T10:00:00.000Z","event":"node_started","node":"a","term":3}""" + "\n"
            + """{"ts":"2026-12-03T10:00:01.000Z","event":"leader_changed","node":"a","leader":"b","leader_id":"b2","term":4}""" + "\n"
            + """{"ts":"2026-12-03T10:00:02.000Z","event":"leader_chan""");
        File.WriteAllText(Path.Combine(dir, EventJournal.FileName + ".bak"), """{"event":"node_started"}""");

        var history = JournalHistory.Read(dir, maxLeaders: 50);
        Assert.Equal(3, history.Starts);
        Assert.Equal([(2UL, 0xb2UL, "b"), (3UL, 0xa1UL, "a"), (4UL, 0xb2UL, "b")], history.Leaders.Select(l => (l.Term, l.Leader, l.LeaderName)));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 10, 0, 1, TimeSpan.Zero), history.Leaders[0].Timestamp);
        Assert.Equal([4UL], JournalHistory.Read(dir, maxLeaders: 1).Leaders.Select(l => l.Term));
        Assert.Same(JournalHistory.Empty, JournalHistory.Read(Path.Combine(dir, "none"), 50));
    }

    [Fact]
    public async Task A_restarted_member_counts_the_restart_and_keeps_its_leader_history_from_before()
    {
        DateTimeOffset firstLeaderAt;
        await using (var first = await StartObservedAsync())
        {
            var history = first.Observability.LeaderHistory();
            Assert.Single(history);
            firstLeaderAt = history[0].Timestamp;
            Assert.Equal(0, first.Observability.Restarts);
        }

        await using var second = await StartObservedAsync();
        Assert.Equal(1, second.Observability.Restarts);
        var after = second.Observability.LeaderHistory();
        Assert.Equal(2, after.Count);
        Assert.Equal(firstLeaderAt.ToUnixTimeMilliseconds(), after[0].Timestamp.ToUnixTimeMilliseconds());
        Assert.Equal("n1", after[0].LeaderName);
        Assert.True(after[1].Timestamp >= after[0].Timestamp);
        Assert.Equal(1, MemberVitals.Local(second.Observability, second.Cluster.Node(0), DateTimeOffset.UtcNow).Restarts);
    }

    [Fact]
    public async Task Every_member_serves_its_vital_signs_and_the_status_document_shows_them_for_all_members()
    {
        await using var cluster = new ObservedApiCluster(3);
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        for (var k = 0; k < 20; k++)
        {
            await cluster.Kv(leader).PutAsync(new Bulwark.Api.Etcdserverpb.PutRequest { Key = ByteString.CopyFromUtf8($"vitals/{k % 5}"), Value = ByteString.CopyFromUtf8("v") });
        }

        var vitals = await cluster.Node(leader).VitalsAsync(new Bulwark.Api.V1.VitalsRequest());
        Assert.Equal(cluster.Name(leader), vitals.Name);
        Assert.Equal(20, vitals.PutSamples);
        Assert.True(vitals.HasPutP50Ms && vitals.HasPutP99Ms && vitals.PutP50Ms > 0 && vitals.PutP50Ms <= vitals.PutP99Ms, vitals.ToString());
        Assert.Equal(60, vitals.PutWindowSeconds);
        Assert.Equal(21, vitals.Revision);
        Assert.Equal(5, vitals.Keys);
        Assert.Equal(0, vitals.CompactRevision);
        Assert.Equal(0, vitals.Restarts);
        Assert.Empty(vitals.Alarms);
        Assert.False(string.IsNullOrEmpty(vitals.Version));
        Assert.InRange(DateTimeOffset.FromUnixTimeMilliseconds(vitals.StartedUnixMs), DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow);

        // Followers took no client puts: no latency, but the same store once they applied everything.
        await cluster.Nodes.WaitForConvergenceAsync(leader);
        // The probe gives each member 700 ms to answer; on a loaded machine one may miss that once (the page then shows
        // it UNREACHABLE, as it should), so build the document again, with a fresh probe, until every member answered.
        var document = await StatusDocumentOfEveryMemberAsync(cluster.Observability(leader));
        Assert.Equal(3, document.Members.Count);
        Assert.All(document.Members, m => Assert.True(m.Vitals is { Revision: 21, Keys: 5 }, m.ToString()));
        Assert.Equal(20, document.Members.Single(m => m.Self).Vitals!.PutSamples);
        Assert.All(document.Members.Where(m => !m.Self), m => Assert.Null(m.Vitals!.PutP50Ms));
        Assert.Empty(document.Alarms);
    }

    private static async Task<StatusDocument> StatusDocumentOfEveryMemberAsync(NodeObservability observability)
    {
        StatusDocument? document = null;
        await Eventually.TrueAsync(
            async () =>
            {
                using var probe = new MemberStatusProbe();
                document = await StatusDocument.BuildAsync(observability, probe, CancellationToken.None);
                return document.Members.All(m => m.Vitals is not null);
            },
            "every member's vitals in the status document");
        return document!;
    }

    private async Task<Observed> StartObservedAsync()
    {
        NodeObservability? observability = null;
        var cluster = new LocalCluster(1, adjust: o =>
        {
            observability = new NodeObservability(o.NodeId, o.InitialCluster, dir, o.HeartbeatInterval, o.ElectionTimeout, NullLoggerFactory.Instance);
            return o with { Observer = observability };
        });
        var node = cluster.Start(0);
        observability!.Attach(node);
        await cluster.WaitForLeaderAsync();
        await LocalCluster.EventuallyAsync(() => observability.LeaderHistory().Count > observability.History.Leaders.Count,
            "the leader history shows this start's leader");
        return new Observed(cluster, observability);
    }

    private sealed record Observed(LocalCluster Cluster, NodeObservability Observability) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Cluster.StopAsync(0);
            await Observability.DisposeAsync();
            await Cluster.DisposeAsync();
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
