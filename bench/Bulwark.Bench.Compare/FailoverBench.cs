using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Bulwark.Api.Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Bench.Compare;

/// <summary>One kill -9 of the leader under writes.</summary>
public sealed record FailoverTrial(int Trial, int Writers, double LongestGapMs, double KillToFirstAckMs, long Acknowledged, long Lost, long WriteErrors);

/// <summary>Trials of one system with one timing and one writer count.</summary>
public sealed record FailoverSeries(string System, string Timing, int Writers, IReadOnlyList<FailoverTrial> Trials)
{
    public double MedianGapMs => Median(Trials.Select(t => t.LongestGapMs));

    public double MedianKillToFirstAckMs => Median(Trials.Select(t => t.KillToFirstAckMs));

    public double WorstGapMs => Trials.Count == 0 ? double.NaN : Trials.Max(t => t.LongestGapMs);

    public long Lost => Trials.Sum(t => t.Lost);

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[(v.Length / 2) - 1] + v[v.Length / 2]) / 2;
    }
}

/// <summary>
/// Writers put unique keys in a loop (each waits for its ack before the next put); at a fixed time the leader gets
/// SIGKILL. A writer whose call fails or times out moves to the next endpoint and retries the same key. After the trial
/// every acknowledged key is read back (linearizable) from the surviving nodes; a missing one is a lost write. The killed
/// node is restarted and caught up before the next trial.
/// </summary>
public sealed class FailoverBench(BenchSettings settings, TextWriter log)
{
    public async Task<IReadOnlyList<FailoverSeries>> RunAsync(ClusterUnderTest cluster, string timingLabel)
    {
        var series = new List<FailoverSeries>();
        var trialNumber = 0;
        foreach (var writers in new[] { 1, 16 })
        {
            var trials = new List<FailoverTrial>();
            for (var t = 0; t < settings.FailoverTrials; t++)
            {
                var trial = await RunTrialAsync(cluster, ++trialNumber, writers).ConfigureAwait(false);
                trials.Add(trial);
                log.WriteLine(FormattableString.Invariant(
                    $"  {cluster.System,-8} {timingLabel,-22} {writers,2} writer(s) trial {t + 1}: longest gap {trial.LongestGapMs,7:0.0} ms, kill to first ack {trial.KillToFirstAckMs,7:0.0} ms, acked {trial.Acknowledged}, lost {trial.Lost}"));
            }

            series.Add(new FailoverSeries(cluster.System, timingLabel, writers, trials));
        }

        return series;
    }

    private async Task<FailoverTrial> RunTrialAsync(ClusterUnderTest cluster, int trial, int writerCount)
    {
        await cluster.WaitForCatchUpAsync(settings.Patience).ConfigureAwait(false);
        var leader = await cluster.WaitForLeaderAsync(settings.Patience).ConfigureAwait(false);
        var prefix = $"failover/{trial:D3}/";
        var acks = new ConcurrentBag<Ack>();
        long errors = 0;
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, writerCount)
            .Select(w => Task.Run(() => WriteLoopAsync(cluster, leader, $"{prefix}{w:D2}/", acks, () => Interlocked.Increment(ref errors), stop.Token)))
            .ToArray();

        await Task.Delay(settings.BeforeKill).ConfigureAwait(false);
        var killedAt = Stopwatch.GetTimestamp();
        await cluster.KillAsync(leader).ConfigureAwait(false);

        // Wait for the first write sent after the kill to be acknowledged, then keep writing a little longer.
        var giveUp = DateTime.UtcNow + settings.Patience;
        while (!acks.Any(a => a.Sent > killedAt) && DateTime.UtcNow < giveUp)
        {
            await Task.Delay(5).ConfigureAwait(false);
        }

        await Task.Delay(settings.AfterRecovery).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(writers).ConfigureAwait(false);

        var ackList = acks.ToArray();
        var firstAfter = ackList.Where(a => a.Sent > killedAt).Select(a => a.Acked).DefaultIfEmpty(long.MaxValue).Min();
        var killToFirst = firstAfter == long.MaxValue ? double.PositiveInfinity : Stopwatch.GetElapsedTime(killedAt, firstAfter).TotalMilliseconds;
        // Gaps are taken in the steady stream only: from the first ack onward.
        var times = ackList.Select(a => a.Acked).Order().ToArray();
        var longestGap = 0.0;
        for (var i = 1; i < times.Length; i++)
        {
            longestGap = Math.Max(longestGap, Stopwatch.GetElapsedTime(times[i - 1], times[i]).TotalMilliseconds);
        }

        var lost = await CountLostAsync(cluster, prefix, ackList).ConfigureAwait(false);
        cluster.Start(leader);
        return new FailoverTrial(trial, writerCount, longestGap, killToFirst, ackList.Length, lost, Interlocked.Read(ref errors));
    }

    private async Task WriteLoopAsync(ClusterUnderTest cluster, int startNode, string keyPrefix, ConcurrentBag<Ack> acks, Action onError, CancellationToken stop)
    {
        var node = startNode;
        for (var seq = 0; !stop.IsCancellationRequested;)
        {
            var key = keyPrefix + seq.ToString("D8", CultureInfo.InvariantCulture);
            var sent = Stopwatch.GetTimestamp();
            try
            {
                await cluster.Kv(node).PutAsync(
                    new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(seq.ToString(CultureInfo.InvariantCulture)) },
                    deadline: DateTime.UtcNow + settings.FailoverCallTimeout).ResponseAsync.ConfigureAwait(false);
                acks.Add(new Ack(key, sent, Stopwatch.GetTimestamp()));
                seq++;
            }
            catch (Exception e) when (e is RpcException or HttpRequestException or IOException)
            {
                onError();
                node = (node + 1) % cluster.Size;
                // A refused connection fails at once; a short pause keeps the retry loop from hogging the CPU.
                await Task.Delay(5, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private async Task<long> CountLostAsync(ClusterUnderTest cluster, string prefix, Ack[] acked)
    {
        var deadline = DateTime.UtcNow + settings.Patience;
        while (true)
        {
            foreach (var i in Enumerable.Range(0, cluster.Size).Where(cluster.IsRunning))
            {
                try
                {
                    var range = await cluster.Kv(i).RangeAsync(
                        new RangeRequest { Key = ByteString.CopyFromUtf8(prefix), RangeEnd = Load.KeySpace.PrefixEnd(prefix), KeysOnly = true },
                        deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync.ConfigureAwait(false);
                    var present = range.Kvs.Select(kv => kv.Key.ToStringUtf8()).ToHashSet(StringComparer.Ordinal);
                    return acked.LongCount(a => !present.Contains(a.Key));
                }
                catch (RpcException) when (DateTime.UtcNow < deadline)
                {
                    // no leader yet on this node; try the next one
                }
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    private readonly record struct Ack(string Key, long Sent, long Acked);
}
