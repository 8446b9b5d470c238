using System.Collections.Concurrent;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Verification;
using Google.Protobuf;
using Grpc.Core;
using Xunit.Abstractions;

namespace Bulwark.EndToEnd.Tests.Processes;

/// <summary>
/// A real 3-process cluster on loopback: writes through the leader and through a follower, then kill -9 of the leader
/// under a stream of writes and reads; a new leader serves writes; the killed node restarts and catches up; every
/// acknowledged write is on every node, and the history of the register clients is linearizable.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class FailoverTests(SharedCluster shared, ITestOutputHelper log)
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task WritesThroughLeaderAndFollowerAreSeenByEveryNode()
    {
        var cluster = shared.Cluster;
        try
        {
            var leader = await cluster.WaitForLeaderAsync();
            var follower = Enumerable.Range(0, cluster.Size).First(i => i != leader);

            var viaLeader = await cluster.Kv(leader).PutAsync(Put("via/leader", "L"), deadline: Deadline());
            var viaFollower = await cluster.Kv(follower).PutAsync(Put("via/follower", "F"), deadline: Deadline());
            Assert.True(viaFollower.Header.Revision > viaLeader.Header.Revision);

            // Linearizable reads on every node see both writes, whichever node took them.
            for (var i = 0; i < cluster.Size; i++)
            {
                var range = await cluster.Kv(i).RangeAsync(new RangeRequest { Key = Bytes("via/"), RangeEnd = Bytes("via0") }, deadline: Deadline());
                Assert.Equal(["via/follower=F", "via/leader=L"], range.Kvs.Select(kv => $"{kv.Key.ToStringUtf8()}={kv.Value.ToStringUtf8()}"));
                Assert.Equal(viaFollower.Header.Revision, range.Header.Revision);
            }
        }
        catch
        {
            log.WriteLine(cluster.Logs());
            throw;
        }
    }

    [Fact]
    public async Task KillingTheLeaderUnderWritesLosesNoAcknowledgedWrite()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        try
        {
            await RunKillLeaderScenario(cluster);
        }
        catch
        {
            log.WriteLine(cluster.Logs());
            throw;
        }
    }

    private async Task RunKillLeaderScenario(ProcessCluster cluster)
    {
        var oldLeader = await cluster.WaitForLeaderAsync();
        var acked = new ConcurrentDictionary<string, (string Value, long Revision, int Node)>(StringComparer.Ordinal);
        var history = new HistoryRecorder<KvInput, KvOutput>();
        using var stop = new CancellationTokenSource();

        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(() => WriteStream(cluster, w, acked, stop.Token))).ToList();
        var registers = Enumerable.Range(0, 2).Select(c => Task.Run(() => RegisterClient(cluster, c, history, stop.Token))).ToList();

        await WaitUntil(() => acked.Count >= 40, "40 acknowledged writes before the kill");
        var ackedBeforeKill = acked.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        await cluster.KillAsync(oldLeader);
        log.WriteLine($"killed leader {cluster.Names[oldLeader]} after {ackedBeforeKill.Count} acknowledged writes");

        var newLeader = await cluster.WaitForLeaderAsync(notLeader: oldLeader);
        Assert.NotEqual(oldLeader, newLeader);
        var direct = await cluster.Kv(newLeader).PutAsync(Put("after/kill", "new-leader"), deadline: Deadline());
        Assert.True(direct.Header.Revision > ackedBeforeKill.Values.Max(v => v.Revision));
        var afterKill = acked.Count;
        await WaitUntil(() => acked.Count >= afterKill + 40, "40 more acknowledged writes under the new leader");

        cluster.Start(oldLeader);
        await WaitUntil(() => acked.Count >= afterKill + 60, "writes continue while the old leader restarts");
        await stop.CancelAsync();
        await Task.WhenAll(writers.Concat(registers));

        await cluster.WaitForLeaderAsync();
        var statusOfLeader = await cluster.Maintenance(await cluster.WaitForLeaderAsync()).StatusAsync(new StatusRequest(), deadline: Deadline());
        await cluster.WaitForAppliedAsync(statusOfLeader.RaftIndex);
        log.WriteLine($"{acked.Count} writes acknowledged; every node applied index {statusOfLeader.RaftIndex}");

        // Serializable reads show each node's own store: every one holds every acknowledged write, and all agree.
        var stores = new List<Dictionary<string, (string Value, long ModRevision)>>();
        for (var i = 0; i < cluster.Size; i++)
        {
            var range = await cluster.Kv(i).RangeAsync(new RangeRequest { Key = Bytes("ack/"), RangeEnd = Bytes("ack0"), Serializable = true }, deadline: Deadline());
            var store = range.Kvs.ToDictionary(kv => kv.Key.ToStringUtf8(), kv => (kv.Value.ToStringUtf8(), kv.ModRevision), StringComparer.Ordinal);
            var missing = acked.Where(a => !store.TryGetValue(a.Key, out var held) || held != (a.Value.Value, a.Value.Revision)).Select(a => a.Key).ToList();
            Assert.True(missing.Count == 0, $"{cluster.Names[i]} lacks {missing.Count} acknowledged writes (or holds them at another revision): {string.Join(", ", missing.Take(20))}");
            var lostFromOldLeader = ackedBeforeKill.Keys.Where(k => !store.ContainsKey(k)).ToList();
            Assert.True(lostFromOldLeader.Count == 0, $"{cluster.Names[i]} lacks writes acknowledged before the leader died: {string.Join(", ", lostFromOldLeader)}");
            stores.Add(store);
        }

        for (var i = 1; i < cluster.Size; i++)
        {
            Assert.Equal(stores[0].OrderBy(kv => kv.Key, StringComparer.Ordinal), stores[i].OrderBy(kv => kv.Key, StringComparer.Ordinal));
        }

        var operations = history.Build();
        var result = LinearizabilityChecker.Check(KvModel.Instance, operations, new CheckBudget { MaxTime = TimeSpan.FromSeconds(60) });
        log.WriteLine($"register history: {operations.Count} operations, {operations.Count(o => o.IsUnknown)} with unknown outcome: {result}");
        Assert.True(result.Verdict != CheckVerdict.Illegal, result.ToString());
    }

    /// <summary>Puts unique keys round-robin through every node; records the ones acknowledged, with their revision.</summary>
    private static async Task WriteStream(ProcessCluster cluster, int writer, ConcurrentDictionary<string, (string Value, long Revision, int Node)> acked, CancellationToken stop)
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var node = (n + writer) % cluster.Size;
            var key = $"ack/{writer}/{n:D6}";
            var value = $"w{writer}-{n}";
            try
            {
                var response = await cluster.Kv(node).PutAsync(Put(key, value), deadline: Deadline());
                acked[key] = (value, response.Header.Revision, node);
            }
            catch (RpcException)
            {
                // Outcome unknown (node dead, leader lost): such a write may or may not be applied; only acks are promises.
                await Task.Delay(20, CancellationToken.None);
            }
        }
    }

    /// <summary>A seeded mix of puts of unique values and linearizable gets on three registers, recorded for the checker.</summary>
    private static async Task RegisterClient(ProcessCluster cluster, int client, HistoryRecorder<KvInput, KvOutput> history, CancellationToken stop)
    {
        var random = new Random(1000 + client);
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var node = random.Next(cluster.Size);
            var key = $"reg/{random.Next(3)}";
            if (random.Next(2) == 0)
            {
                var value = $"c{client}-{n}";
                var id = history.Invoke(client, KvInput.Put(key, value));
                try
                {
                    await cluster.Kv(node).PutAsync(Put(key, value), deadline: Deadline());
                    history.Complete(id, KvOutput.Written);
                }
                catch (RpcException)
                {
                    history.GiveUp(id);
                    await Task.Delay(20, CancellationToken.None);
                }
            }
            else
            {
                var id = history.Invoke(client, KvInput.Get(key));
                try
                {
                    var range = await cluster.Kv(node).RangeAsync(new RangeRequest { Key = Bytes(key) }, deadline: Deadline());
                    history.Complete(id, KvOutput.Read(range.Kvs.Count == 0 ? null : range.Kvs[0].Value.ToStringUtf8()));
                }
                catch (RpcException)
                {
                    history.Discard(id); // a failed read changed nothing
                    await Task.Delay(20, CancellationToken.None);
                }
            }
        }
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + ProcessCluster.Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }

            await Task.Delay(50);
        }
    }

    private static DateTime Deadline() => DateTime.UtcNow + CallTimeout;

    private static PutRequest Put(string key, string value) => new() { Key = Bytes(key), Value = Bytes(value) };

    private static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);
}
