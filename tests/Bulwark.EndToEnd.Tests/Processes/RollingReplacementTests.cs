using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Bulwark.Api.Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Bulwark.EndToEnd.Tests.Processes;

/// <summary>
/// Every original member of a 3-process cluster replaced, one at a time, while a separate client keeps writing: add a
/// learner, start it with --initial-cluster-state existing (it catches up by snapshot, then log), promote it once in
/// sync, remove an original member (the leader first: it hands leadership over before it goes). Afterwards every
/// acknowledged put is readable with its value, and the writer kept succeeding through every step (checked by
/// behaviour; the longest gap between two acknowledged puts is logged, not asserted).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class RollingReplacementTests(ITestOutputHelper output)
{
    [Fact]
    public async Task EveryOriginalMemberReplacedUnderWriteLoadLosesNoAcknowledgedWrite()
    {
        // Small snapshots, so a new member is far enough behind to need one (then the log).
        await using var cluster = await ProcessCluster.StartAsync(3, ["--snapshot-count", "300", "--snapshot-catchup-entries", "50"], spare: 3);
        await using var writer = new Writer([.. cluster.ClientUrls.Take(3)]);
        var writing = writer.RunAsync();
        await writer.WaitForProgressAsync(50, "before the first step", cluster);

        var originals = new List<int> { 0, 1, 2 };
        for (var step = 0; step < 3; step++)
        {
            var fresh = 3 + step;

            // Add a learner and start it as etcdctl's ETCD_INITIAL_CLUSTER would: the members, then itself.
            var added = await AddLearnerAsync(cluster, fresh);
            var initialCluster = string.Join(",", added.Members.Select(m => m.ID == added.Member.ID
                ? cluster.InitialClusterEntry(fresh)
                : $"{m.Name}={m.PeerURLs[0]}"));
            cluster.StartJoining(fresh, initialCluster);
            await writer.WaitForProgressAsync(20, $"step {step}: while {cluster.Names[fresh]} joins", cluster);

            await PromoteWhenInSyncAsync(cluster, added.Member.ID);
            writer.AddEndpoint(cluster.ClientUrls[fresh]);
            await writer.WaitForProgressAsync(20, $"step {step}: after promoting {cluster.Names[fresh]}", cluster);

            // The first original to go is the leader (made so if need be), the next ones followers where one is left
            // (a leader hands over to the member furthest along, often an original); removal is asked on the member removed
            // itself: a leader hands leadership over first and the new leader removes it; a follower forwards.
            var old = step == 0 ? await OriginalLeaderAsync(cluster, originals) : await OriginalFollowerAsync(cluster, originals);
            originals.Remove(old);
            var oldId = (await cluster.TryStatusAsync(old))!.Header.MemberId;
            var before = await cluster.TryStatusAsync(fresh);
            var termBefore = before?.Header.RaftTerm ?? 0;
            var removingLeader = before?.Leader == oldId;
            var removeAt = Stopwatch.GetTimestamp();
            await RetryAsync(cluster, () => cluster.Cluster(old).MemberRemoveAsync(new MemberRemoveRequest { ID = oldId }).ResponseAsync,
                alreadyDone: async () => !(await ListAsync(cluster)).Any(m => m.ID == oldId));
            Assert.Equal(4, await cluster.WaitForExitAsync(old)); // removed: stops with its own exit code
            if (step == 0)
            {
                Assert.True(removingLeader, "the first member removed was to be the leader");
            }

            writer.RemoveEndpoint(cluster.ClientUrls[old]);
            await writer.WaitForProgressAsync(20, $"step {step}: after removing {cluster.Names[old]}", cluster);
            var termAfter = (await cluster.TryStatusAsync(fresh))?.Header.RaftTerm ?? 0;
            output.WriteLine($"step {step}: replaced {cluster.Names[old]} ({(removingLeader ? "the leader" : "a follower")}) by {cluster.Names[fresh]}; " +
                $"term {termBefore} -> {termAfter}; longest write gap since the removal {writer.LongestGapSince(removeAt).TotalMilliseconds:0} ms");
        }

        await writer.StopAsync();
        await writing;

        // Only the new members are left, all started voters.
        var members = await ListAsync(cluster);
        Assert.Equal(cluster.Names.Skip(3).Order(), members.Select(m => m.Name).Order());
        Assert.All(members, m => Assert.False(m.IsLearner));
        Assert.All(members, m => Assert.Single(m.ClientURLs));

        // Every acknowledged put is there with its value (a linearizable read on a new member).
        var kv = cluster.Kv(5);
        var stored = (await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("roll/"), RangeEnd = ByteString.CopyFromUtf8("roll0") },
                deadline: DateTime.UtcNow.AddSeconds(30)))
            .Kvs.ToDictionary(p => p.Key.ToStringUtf8(), p => p.Value.ToStringUtf8());
        Assert.NotEmpty(writer.Acknowledged);
        foreach (var (key, value) in writer.Acknowledged)
        {
            Assert.True(stored.TryGetValue(key, out var found) && found == value, $"acknowledged {key}={value} is {(found is null ? "missing" : $"'{found}'")}");
        }

        // The new members caught up by a snapshot from the leader (then the log), not only by replaying it.
        Assert.Contains(Enumerable.Range(3, 3), i => cluster.StandardOutput(i).Any(l => l.Contains("snapshot installed", StringComparison.Ordinal)));
        output.WriteLine($"{writer.Acknowledged.Count} puts acknowledged, {writer.Failures} attempts failed; longest gap between two acknowledged puts " +
            $"{writer.LongestGapSince(0).TotalMilliseconds:0} ms");
    }

    /// <summary>The leader, moved to an original member first if a new one leads.</summary>
    private static async Task<int> OriginalLeaderAsync(ProcessCluster cluster, List<int> originals)
    {
        var leader = await cluster.WaitForLeaderAsync();
        if (!originals.Contains(leader))
        {
            var target = (await cluster.TryStatusAsync(originals[0]))!.Header.MemberId;
            await cluster.Maintenance(leader).MoveLeaderAsync(new MoveLeaderRequest { TargetID = target }, deadline: DateTime.UtcNow.AddSeconds(30));
            leader = await cluster.WaitForLeaderAsync();
        }

        Assert.Contains(leader, originals);
        return leader;
    }

    /// <summary>An original member that does not lead, if one is left.</summary>
    private static async Task<int> OriginalFollowerAsync(ProcessCluster cluster, List<int> originals)
    {
        var leader = await cluster.WaitForLeaderAsync();
        return originals.FirstOrDefault(i => i != leader, originals[0]);
    }

    private static async Task<MemberAddResponse> AddLearnerAsync(ProcessCluster cluster, int fresh)
    {
        var peerUrl = cluster.PeerUrls[fresh];
        MemberAddResponse? added = null;
        await RetryAsync(cluster, async () => added = await cluster.Cluster(cluster.Running.First()).MemberAddAsync(
                new MemberAddRequest { PeerURLs = { peerUrl }, IsLearner = true }, deadline: DateTime.UtcNow.AddSeconds(30)),
            alreadyDone: async () => (await ListAsync(cluster)).Any(m => m.PeerURLs.Contains(peerUrl)));
        if (added is not null)
        {
            return added;
        }

        // An earlier attempt went through although its answer was lost: the member list shows it.
        var members = await ListAsync(cluster);
        var member = members.Single(m => m.PeerURLs.Contains(peerUrl));
        var response = new MemberAddResponse { Member = member };
        response.Members.AddRange(members);
        return response;
    }

    private static async Task PromoteWhenInSyncAsync(ProcessCluster cluster, ulong id)
    {
        var deadline = DateTime.UtcNow + ProcessCluster.Patience;
        while (true)
        {
            try
            {
                await RetryAsync(cluster, () => cluster.Cluster(cluster.Running.First()).MemberPromoteAsync(new MemberPromoteRequest { ID = id }).ResponseAsync,
                    alreadyDone: async () => (await ListAsync(cluster)).Any(m => m.ID == id && !m.IsLearner));
                return;
            }
            catch (RpcException e) when (e.Status.Detail == "etcdserver: can only promote a learner member which is in sync with leader" && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200); // still catching up
            }
        }
    }

    /// <summary>Runs a membership call, again after an answer that leaves its outcome open (no leader, leader changed,
    /// timed out) unless <paramref name="alreadyDone"/> shows it took effect.</summary>
    private static async Task RetryAsync<T>(ProcessCluster cluster, Func<Task<T>> call, Func<Task<bool>> alreadyDone)
    {
        var deadline = DateTime.UtcNow + ProcessCluster.Patience;
        while (true)
        {
            try
            {
                await call();
                return;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
                if (await alreadyDone())
                {
                    return;
                }
            }
        }
    }

    private static async Task<IReadOnlyList<Member>> ListAsync(ProcessCluster cluster)
    {
        var deadline = DateTime.UtcNow + ProcessCluster.Patience;
        while (true)
        {
            foreach (var i in cluster.Running)
            {
                try
                {
                    return (await cluster.Cluster(i).MemberListAsync(new MemberListRequest { Linearizable = true }, deadline: DateTime.UtcNow.AddSeconds(10))).Members;
                }
                catch (RpcException) when (DateTime.UtcNow < deadline)
                {
                    // try the next member
                }
            }

            await Task.Delay(200);
        }
    }

    /// <summary>
    /// A client that writes roll/NNNNNN = vNNNNNN one put at a time, as an application configured with every member's
    /// endpoint would: on an error it tries the next endpoint (the same put again), and it records each acknowledged
    /// put and when it was acknowledged.
    /// </summary>
    private sealed class Writer(IReadOnlyList<string> endpoints) : IAsyncDisposable
    {
        private readonly ConcurrentDictionary<string, GrpcChannel> channels = new();
        private readonly CancellationTokenSource stop = new();
        private readonly List<long> ackTimes = [];
        private readonly List<(string Key, string Value)> acknowledged = [];
        private volatile string[] current = [.. endpoints];
        private long failures;

        public IReadOnlyList<(string Key, string Value)> Acknowledged
        {
            get
            {
                lock (acknowledged)
                {
                    return [.. acknowledged];
                }
            }
        }

        public long Failures => Interlocked.Read(ref failures);

        public void AddEndpoint(string url) => current = [.. current, url];

        public void RemoveEndpoint(string url) => current = [.. current.Where(u => u != url)];

        public async Task RunAsync()
        {
            var next = 0;
            for (var seq = 1; !stop.IsCancellationRequested; seq++)
            {
                var key = $"roll/{seq.ToString("D6", CultureInfo.InvariantCulture)}";
                var value = $"v{seq}";
                while (!stop.IsCancellationRequested)
                {
                    var urls = current;
                    var url = urls[next % urls.Length];
                    try
                    {
                        var kv = new KV.KVClient(channels.GetOrAdd(url, u => GrpcChannel.ForAddress(u)));
                        await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) },
                            deadline: DateTime.UtcNow.AddSeconds(3), cancellationToken: stop.Token);
                        lock (acknowledged)
                        {
                            acknowledged.Add((key, value));
                            ackTimes.Add(Stopwatch.GetTimestamp());
                        }

                        break;
                    }
                    catch (RpcException) when (!stop.IsCancellationRequested)
                    {
                        Interlocked.Increment(ref failures);
                        next++;
                        if (next % urls.Length == 0)
                        {
                            await Task.Delay(20); // every endpoint failed once: a moment before the next round
                        }
                    }
                    catch (Exception) when (stop.IsCancellationRequested)
                    {
                    }
                }
            }
        }

        /// <summary>Waits (deadline-bounded) until <paramref name="puts"/> more puts are acknowledged.</summary>
        public async Task WaitForProgressAsync(int puts, string when, ProcessCluster cluster)
        {
            var target = Acknowledged.Count + puts;
            var deadline = DateTime.UtcNow + ProcessCluster.Patience;
            while (Acknowledged.Count < target)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the writer stopped making progress {when} ({Acknowledged.Count} acknowledged, {Failures} failed).{Environment.NewLine}{cluster.Logs()}");
                await Task.Delay(50);
            }
        }

        /// <summary>The longest time between two acknowledged puts since <paramref name="since"/> (a Stopwatch timestamp).</summary>
        public TimeSpan LongestGapSince(long since)
        {
            lock (acknowledged)
            {
                var longest = 0L;
                for (var i = 1; i < ackTimes.Count; i++)
                {
                    if (ackTimes[i] >= since)
                    {
                        longest = Math.Max(longest, ackTimes[i] - ackTimes[i - 1]);
                    }
                }

                return TimeSpan.FromSeconds((double)longest / Stopwatch.Frequency);
            }
        }

        public async Task StopAsync() => await stop.CancelAsync();

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            foreach (var channel in channels.Values)
            {
                channel.Dispose();
            }

            stop.Dispose();
        }
    }
}
