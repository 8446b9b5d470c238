using System.Diagnostics;
using System.Globalization;
using Bulwark.Api.Etcdserverpb;
using Bulwark.TestSupport;
using Google.Protobuf;

namespace Bulwark.Bench.Compare;

/// <summary>
/// One rejoin trial (issue 15): windows without a successful call on the two healthy members' clients while a
/// follower is dead (kill to restart) and while it comes back (restart until 3 s after it caught up); how long after
/// its process start the returning member served its first linearizable read and applied the leader's index; how the
/// healthy members' calls failed.
/// </summary>
public sealed record RejoinTrial(
    int Trial,
    double WindowWhileDownMs,
    double WindowWhileRejoiningMs,
    double WindowRejoinAtMs,
    double FirstReadMs,
    double CaughtUpMs,
    int Successes,
    int Failures,
    int TooManyRequests,
    int NoLeader);

public sealed record RejoinSeries(string System, string Timing, IReadOnlyList<RejoinTrial> Trials)
{
    public double MaxWindowWhileRejoiningMs => Trials.Max(t => t.WindowWhileRejoiningMs);

    public double MedianFirstReadMs => Median(Trials.Select(t => t.FirstReadMs));

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[sorted.Count / 2];
    }
}

/// <summary>
/// The rejoin scenario of issue 15 on one system: 8 clients (puts, linearizable gets, CAS Txns on 5 keys, see
/// <see cref="AvailabilityRecorder"/>) on the two members that stay up; SIGKILL a follower after 2 s, restart it 3 s
/// later, keep the load until 3 s after it applied the leader's index. The same code measures etcd and Bulwark.
/// </summary>
public sealed class RejoinBench(BenchSettings settings, TextWriter log)
{
    private const int ClientsPerMember = 4;
    private static readonly TimeSpan Steady = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Down = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan After = TimeSpan.FromSeconds(3);

    public async Task<RejoinSeries> RunAsync(ClusterUnderTest cluster, string timingLabel)
    {
        var trials = new List<RejoinTrial>();
        for (var t = 0; t < settings.FailoverTrials; t++)
        {
            var trial = await RunTrialAsync(cluster, t + 1).ConfigureAwait(false);
            trials.Add(trial);
            log.WriteLine(FormattableString.Invariant(
                $"  {cluster.System,-8} {timingLabel,-22} rejoin trial {trial.Trial}: longest window while down {trial.WindowWhileDownMs,6:0} ms, while rejoining {trial.WindowWhileRejoiningMs,6:0} ms (at +{trial.WindowRejoinAtMs:0} ms); first linearizable read {trial.FirstReadMs:0} ms, caught up {trial.CaughtUpMs:0} ms after start; {trial.Successes} ok, {trial.Failures} failed ({trial.TooManyRequests} too many requests, {trial.NoLeader} no leader)"));
        }

        return new RejoinSeries(cluster.System, timingLabel, trials);
    }

    private async Task<RejoinTrial> RunTrialAsync(ClusterUnderTest cluster, int trial)
    {
        var leader = await cluster.WaitForLeaderAsync(settings.Patience).ConfigureAwait(false);
        var returning = Enumerable.Range(0, cluster.Size).First(i => i != leader);
        var healthy = Enumerable.Range(0, cluster.Size).Where(i => i != returning).ToArray();
        var clock = Stopwatch.StartNew();
        var recorder = new AvailabilityRecorder(clock);
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, ClientsPerMember * healthy.Length).Select(c =>
        {
            var member = healthy[c % healthy.Length];
            var key = string.Create(CultureInfo.InvariantCulture, $"rejoin/{c % 5}");
            return Task.Run(() => recorder.RunClientAsync(cluster.Kv(member), cluster.Names[member], key, stop.Token));
        }).ToList();

        await Task.Delay(Steady).ConfigureAwait(false);
        var killed = clock.Elapsed;
        await cluster.KillAsync(returning).ConfigureAwait(false);
        await Task.Delay(Down).ConfigureAwait(false);
        var marker = string.Create(CultureInfo.InvariantCulture, $"trial-{trial}");
        await cluster.Kv(leader).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("rejoin/marker"), Value = ByteString.CopyFromUtf8(marker) },
            deadline: DateTime.UtcNow.AddSeconds(10)).ConfigureAwait(false);
        var restarted = clock.Elapsed;
        cluster.Start(returning);
        var (firstRead, seen) = await recorder.FirstLinearizableReadAsync(cluster.Kv(returning), "rejoin/marker", settings.Patience).ConfigureAwait(false);
        if (seen != marker)
        {
            throw new InvalidOperationException($"{cluster.System}: the returning member's first linearizable read saw {seen ?? "nothing"}, not {marker}");
        }

        var target = (await cluster.TryStatusAsync(leader).ConfigureAwait(false))?.RaftIndex
            ?? throw new InvalidOperationException($"{cluster.System}: the leader did not answer Status");
        while ((await cluster.TryStatusAsync(returning).ConfigureAwait(false))?.RaftAppliedIndex < target)
        {
            if (clock.Elapsed - restarted > settings.Patience)
            {
                throw new TimeoutException($"{cluster.System}: the returning member did not apply index {target}");
            }

            await Task.Delay(10).ConfigureAwait(false);
        }

        var caughtUp = clock.Elapsed;
        await Task.Delay(After).ConfigureAwait(false);
        var ended = clock.Elapsed;
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(clients).ConfigureAwait(false);

        var down = recorder.LongestWindow(killed, restarted);
        var back = recorder.LongestWindow(restarted, ended);
        var failures = recorder.Failures;
        return new RejoinTrial(trial, down.Length.TotalMilliseconds, back.Length.TotalMilliseconds, (back.Start - restarted).TotalMilliseconds,
            (firstRead - restarted).TotalMilliseconds, (caughtUp - restarted).TotalMilliseconds, recorder.Successes, failures.Count,
            failures.Count(f => f.Detail.Contains("too many requests", StringComparison.Ordinal)),
            failures.Count(f => f.Detail.Contains("no leader", StringComparison.Ordinal)));
    }
}
