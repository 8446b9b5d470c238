using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Bulwark.Api.Etcdserverpb;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.Server.Observability;
using Bulwark.TestSupport;
using Google.Protobuf;
using Grpc.Core;
using Xunit.Abstractions;

namespace Bulwark.EndToEnd.Tests.GrayFailure;

/// <summary>
/// Issue 15, deliverable 3, on real processes: a leader whose disk turns slow (every fsync 50 ms late, through the
/// fsync-delay fault point of --unsafe-fault-injection) hands leadership to a healthy follower on its own, and its
/// journal says why. Before the fault, writes flow and nobody transfers. Latencies are printed, never asserted.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class SlowDiskLeaderTests(ITestOutputHelper log)
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task ALeaderWithASlowDiskHandsLeadershipToAHealthyFollowerAndJournalsWhy()
    {
        await using var cluster = await ProcessCluster.StartAsync(extraArgs: ["--unsafe-fault-injection"]);
        var latencies = new ConcurrentQueue<(double At, double Ms)>();
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        try
        {
            var slow = await cluster.WaitForLeaderAsync();
            var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() => Write(cluster, w, clock, latencies, stop.Token))).ToList();

            // The baseline: enough healthy windows of fsync samples, and the leader's minimum tenure.
            await Eventually.TrueAsync(() => latencies.Count >= 400 && clock.Elapsed > TimeSpan.FromSeconds(8), "8 s of healthy writes");
            var healthyUntil = clock.Elapsed.TotalSeconds;
            Assert.All(Enumerable.Range(0, cluster.Size), i => Assert.DoesNotContain(JournalEvents.HealthTransfer, Journal(cluster, i)));

            using (var http = new HttpClient { BaseAddress = new Uri(cluster.MetricsUrls[slow]) })
            {
                var answer = await http.PostAsJsonAsync("/debug/faults", new { point = "fsync-delay", delayMs = 50, enabled = true });
                Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
            }

            var slowSince = clock.Elapsed.TotalSeconds;
            log.WriteLine($"fsync +50 ms on the leader {cluster.Names[slow]} at {slowSince:F1} s");
            var leader = await cluster.WaitForLeaderAsync(notLeader: slow);
            var movedAt = clock.Elapsed.TotalSeconds;
            log.WriteLine($"leadership moved to {cluster.Names[leader]} at {movedAt:F1} s");
            await Eventually.TrueAsync(() => Journal(cluster, slow).Contains(JournalEvents.HealthTransfer, StringComparison.Ordinal),
                "the slow leader's journal records its transfer for health", diagnostics: () => Journal(cluster, slow));
            var record = Journal(cluster, slow).Split('\n').First(l => l.Contains(JournalEvents.HealthTransfer, StringComparison.Ordinal));
            log.WriteLine(record);
            Assert.Contains("fsync_ms", record, StringComparison.Ordinal);

            await Eventually.TrueAsync(() => clock.Elapsed.TotalSeconds > movedAt + 5, "5 s of writes under the new leader");
            await stop.CancelAsync();
            await Task.WhenAll(writers);

            var samples = latencies.ToArray();
            log.WriteLine($"put latency p50 before the fault {Median(samples, 2, healthyUntil):F1} ms; " +
                $"from the fault to the move {Median(samples, slowSince, movedAt):F1} ms; after the move (+1 s on) {Median(samples, movedAt + 1, double.MaxValue):F1} ms; " +
                $"moved {movedAt - slowSince:F1} s after the fault");
        }
        catch
        {
            await stop.CancelAsync();
            log.WriteLine(cluster.Logs());
            throw;
        }
    }

    private static string Journal(ProcessCluster cluster, int i)
    {
        var path = Path.Combine(cluster.DataDir(i), "journal", EventJournal.FileName);
        if (!File.Exists(path))
        {
            return "";
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static double Median(IEnumerable<(double At, double Ms)> samples, double from, double to)
    {
        var chosen = samples.Where(s => s.At >= from && s.At < to).Select(s => s.Ms).Order().ToArray();
        return chosen.Length == 0 ? double.NaN : chosen[chosen.Length / 2];
    }

    private static async Task Write(ProcessCluster cluster, int writer, Stopwatch clock, ConcurrentQueue<(double, double)> latencies, CancellationToken stop)
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var node = (writer + n) % cluster.Size;
            var started = clock.Elapsed;
            try
            {
                await cluster.Kv(node).PutAsync(
                    new PutRequest { Key = ByteString.CopyFromUtf8($"slow/{writer}"), Value = ByteString.CopyFromUtf8(n.ToString(CultureInfo.InvariantCulture)) },
                    deadline: DateTime.UtcNow + CallTimeout, cancellationToken: stop);
                latencies.Enqueue((started.TotalSeconds, (clock.Elapsed - started).TotalMilliseconds));
            }
            catch (RpcException) when (!stop.IsCancellationRequested)
            {
                // A call lost to the leadership change: the next one goes on.
            }
            catch (RpcException)
            {
                return;
            }
        }
    }
}
