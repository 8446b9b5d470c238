using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Bulwark.Api.Etcdserverpb;
using Bulwark.TestSupport;
using Google.Protobuf;
using Grpc.Core;
using Xunit.Abstractions;

namespace Bulwark.EndToEnd.Tests.Processes;

/// <summary>
/// Issue 15's rejoin stall on real processes: 3 members, 8 clients busy on the two that stay up (puts, linearizable
/// gets, CAS Txns), SIGKILL a follower, restart it, wait until it caught up. A member's crash and return must be
/// invisible to the other members' clients: none of their calls fails with "too many requests", "no leader" or a
/// leader change, the leader keeps its term, it sends the returning member at most one snapshot, and the returning
/// member serves a linearizable read that sees the last write acknowledged before it started. The longest window
/// without a successful call on the healthy members and the returning member's time to its first linearizable read
/// are printed, not asserted (wall-clock durations are the benchmark's: bench/run-vs-etcd.sh --rejoin).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class RejoinTests(ITestOutputHelper log)
{
    private const int ClientsPerMember = 4;
    private const int Keys = 5;

    /// <summary>
    /// "log": default snapshot settings, the returning member catches up from the leader's log after replaying its WAL.
    /// "snapshot": snapshots every 2,000 entries with a 100-entry catch-up tail, so it can only catch up by a snapshot
    /// (and far enough apart that the leader does not take another one past it while it installs the first).
    /// </summary>
    [Theory]
    [InlineData("log")]
    [InlineData("snapshot")]
    public async Task A_follower_killed_and_restarted_under_load_is_invisible_to_the_other_members_clients(string catchUp)
    {
        IReadOnlyList<string> args = catchUp == "snapshot"
            ? ["--snapshot-count", "2000", "--snapshot-catchup-entries", "100"]
            : [];
        await using var cluster = await ProcessCluster.StartAsync(3, args);
        try
        {
            await RunAsync(cluster, catchUp == "snapshot");
        }
        catch
        {
            log.WriteLine(cluster.Logs());
            throw;
        }
    }

    private async Task RunAsync(ProcessCluster cluster, bool expectSnapshot)
    {
        var leader = await cluster.WaitForLeaderAsync();
        var returning = Enumerable.Range(0, cluster.Size).First(i => i != leader);
        var healthy = Enumerable.Range(0, cluster.Size).Where(i => i != returning).ToArray();
        var leaderBefore = await StatusAsync(cluster, leader);
        var returningId = (await StatusAsync(cluster, returning)).Header.MemberId;

        // Some history first, so the returning member has a WAL to replay and a store of some size.
        await PreloadAsync(cluster.Kv(leader), 3000);

        var clock = Stopwatch.StartNew();
        var recorder = new AvailabilityRecorder(clock);
        using var stop = new CancellationTokenSource();
        var clients = new List<Task>();
        for (var c = 0; c < ClientsPerMember * healthy.Length; c++)
        {
            var member = healthy[c % healthy.Length];
            var key = string.Create(CultureInfo.InvariantCulture, $"rejoin/{c % Keys}");
            clients.Add(Task.Run(() => recorder.RunClientAsync(cluster.Kv(member), cluster.Names[member], key, stop.Token)));
        }

        await WaitForSuccessesAsync(recorder, 300, "the clients to get going", cluster);
        var loadStarted = clock.Elapsed;
        await WaitForSuccessesAsync(recorder, recorder.Successes + 300, "a steady stretch before the kill", cluster);

        var killed = clock.Elapsed;
        await cluster.KillAsync(returning);
        // Enough traffic while it is down that it has real catching up to do (and, with frequent snapshots, that the
        // leader's log no longer reaches back to it).
        await WaitForSuccessesAsync(recorder, recorder.Successes + 6000, "writes while the follower is down", cluster);

        var marker = string.Create(CultureInfo.InvariantCulture, $"before-restart-{clock.ElapsedTicks}");
        await cluster.Kv(leader).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("rejoin/marker"), Value = ByteString.CopyFromUtf8(marker) },
            deadline: DateTime.UtcNow.AddSeconds(10));

        var restarted = clock.Elapsed;
        var restartedAt = DateTimeOffset.UtcNow;
        cluster.Start(returning);
        var (firstRead, seen) = await recorder.FirstLinearizableReadAsync(cluster.Kv(returning), "rejoin/marker", ProcessCluster.Patience);
        var target = (await StatusAsync(cluster, leader)).RaftIndex;
        await Eventually.TrueAsync(
            async () => (await cluster.TryStatusAsync(returning))?.RaftAppliedIndex >= target,
            $"{cluster.Names[returning]} to apply index {target}",
            ProcessCluster.Patience,
            diagnostics: cluster.Logs);
        var caughtUp = clock.Elapsed;
        await WaitForSuccessesAsync(recorder, recorder.Successes + 300, "traffic after the catch-up", cluster);
        var ended = clock.Elapsed;
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        var steady = recorder.LongestWindow(loadStarted, killed);
        var down = recorder.LongestWindow(killed, restarted);
        var back = recorder.LongestWindow(restarted, ended);
        var leaderLog = cluster.StandardOutput(leader);
        var peer = returningId.ToString("x", CultureInfo.InvariantCulture);
        var snapshotsSent = leaderLog.Count(l => l.Contains("snapshot at index", StringComparison.Ordinal) && l.Contains($"to peer {peer}", StringComparison.Ordinal)
            && (l.Contains("sent snapshot", StringComparison.Ordinal) || l.Contains("failed", StringComparison.Ordinal)));
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            {recorder.Successes} successful calls on {string.Join(", ", healthy.Select(i => cluster.Names[i]))}; {recorder.Failures.Count} failed
            longest window without a successful call on the healthy members' clients:
              steady load before the kill: {Ms(steady.Length)} ms
              kill until restart ({Ms(restarted - killed)} ms): {Ms(down.Length)} ms at +{Ms(down.Start - killed)} ms after the kill
              restart, catch-up and after ({Ms(ended - restarted)} ms): {Ms(back.Length)} ms at +{Ms(back.Start - restarted)} ms after the restart
            returning member {cluster.Names[returning]}: first linearizable read {Ms(firstRead - restarted)} ms after its start, caught up (applied {target}) at {Ms(caughtUp - restarted)} ms
            snapshots the leader sent (or failed to send) to it: {snapshotsSent}
            its return, ms after its process was started: {Timeline(cluster.StandardOutput(returning), leaderLog, peer, restartedAt)}, first linearizable read {Ms(firstRead - restarted)}
            """));
        if (Environment.GetEnvironmentVariable("BULWARK_REJOIN_LOG_DIR") is { Length: > 0 } logDir)
        {
            // For investigating: every member's timestamped log, and this test's moments on the same wall clock.
            var zero = DateTime.UtcNow - clock.Elapsed;
            File.WriteAllText(Path.Combine(logDir, $"rejoin-{(expectSnapshot ? "snapshot" : "log")}.log"), string.Create(CultureInfo.InvariantCulture,
                $"killed {zero + killed:HH:mm:ss.fff} restarted {zero + restarted:HH:mm:ss.fff} first read {zero + firstRead:HH:mm:ss.fff} caught up {zero + caughtUp:HH:mm:ss.fff} longest window from {zero + back.Start:HH:mm:ss.fff} ({Ms(back.Length)} ms){Environment.NewLine}") + cluster.Logs());
        }

        // What the clients were waiting on when the longest rejoin window began: which member, which call, how long.
        foreach (var call in recorder.InFlightAt(back.Start + TimeSpan.FromMilliseconds(1)))
        {
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  in flight at the window's start: {call.Kind} on {call.Member}, started {Ms(call.Started - back.Start)} ms, ended +{Ms(call.Ended - back.Start)} ms, {call.Outcome}"));
        }

        foreach (var failure in recorder.Failures.Take(20))
        {
            log.WriteLine($"  failed: {failure}");
        }

        Assert.Equal(marker, seen);
        var unavailable = recorder.Failures.Where(f =>
            f.Detail.Contains("too many requests", StringComparison.Ordinal) ||
            f.Detail.Contains("no leader", StringComparison.Ordinal) ||
            f.Detail.Contains("leader changed", StringComparison.Ordinal)).ToList();
        Assert.True(unavailable.Count == 0, "the healthy members' clients saw the cluster unavailable: " + string.Join("; ", unavailable.Take(10)));
        var leaderAfter = await StatusAsync(cluster, leader);
        Assert.Equal(leaderBefore.Leader, leaderAfter.Leader);
        Assert.Equal(leaderBefore.RaftTerm, leaderAfter.RaftTerm);
        Assert.True(snapshotsSent <= 1, $"the leader sent {snapshotsSent} snapshots to the returning member: " +
            string.Join(Environment.NewLine, leaderLog.Where(l => l.Contains("snapshot", StringComparison.Ordinal))));
        if (expectSnapshot)
        {
            Assert.Equal(1, snapshotsSent);
            Assert.Contains(cluster.StandardOutput(returning), l => l.Contains("snapshot installed at index", StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// Where the returning member's seconds go, from its own log and the leader's (same machine clock): client API
    /// listening (answering "catching up"), node started (runtime up, storage opened), peer transport listening, leader redialed it, leader known, snapshot installed,
    /// client API serving.
    /// </summary>
    private static string Timeline(IReadOnlyList<string> returningLog, IReadOnlyList<string> leaderLog, string peer, DateTimeOffset restartedAt)
    {
        var moments = new List<string>();
        void Add(string what, IEnumerable<string> lines, Func<JsonElement, bool> match)
        {
            foreach (var line in lines)
            {
                if (!line.StartsWith('{'))
                {
                    continue;
                }

                using var json = JsonDocument.Parse(line);
                if (match(json.RootElement) && json.RootElement.GetProperty("@timestamp").GetDateTimeOffset() is var at && at >= restartedAt)
                {
                    moments.Add(string.Create(CultureInfo.InvariantCulture, $"{what} {(at - restartedAt).TotalMilliseconds:0}"));
                    return;
                }
            }

            moments.Add($"{what} -");
        }

        static bool Is(JsonElement e, string action) => e.TryGetProperty("event.action", out var a) && a.GetString() == action;
        Add("client API listening", returningLog, e => Is(e, "ClientApiListening"));
        Add("node started", returningLog, e => Is(e, "Started"));
        Add("peers listening", returningLog, e => Is(e, "Listening"));
        Add("leader redialed it", leaderLog, e => Is(e, "Connected") && e.GetProperty("message").GetString()!.Contains(peer, StringComparison.Ordinal));
        Add("leader known", returningLog, e => Is(e, "LeaderChanged"));
        Add("snapshot installed", returningLog, e => Is(e, "SnapshotInstalled"));
        Add("client API serving", returningLog, e => Is(e, "Serving"));
        return string.Join(", ", moments);
    }

    private static async Task PreloadAsync(KV.KVClient kv, int count)
    {
        var value = ByteString.CopyFrom(new byte[256]);
        var writers = Enumerable.Range(0, 8).Select(async w =>
        {
            for (var i = w; i < count; i += 8)
            {
                await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(string.Create(CultureInfo.InvariantCulture, $"preload/{i:D5}")), Value = value },
                    deadline: DateTime.UtcNow.AddSeconds(10));
            }
        });
        await Task.WhenAll(writers);
    }

    private static Task WaitForSuccessesAsync(AvailabilityRecorder recorder, int count, string what, ProcessCluster cluster) =>
        Eventually.TrueAsync(() => recorder.Successes >= count, $"{what} ({count} successful calls; failures: {string.Join("; ", recorder.Failures.TakeLast(5))})",
            ProcessCluster.Patience, cluster.Logs);

    private static async Task<StatusResponse> StatusAsync(ProcessCluster cluster, int i) =>
        await Eventually.ValueAsync(() => cluster.TryStatusAsync(i), $"{cluster.Names[i]} to answer Status", ProcessCluster.Patience,
            transient: e => e is RpcException, diagnostics: cluster.Logs);

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);
}
