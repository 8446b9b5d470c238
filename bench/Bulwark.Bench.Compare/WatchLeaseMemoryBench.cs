using Bulwark.Api.Etcdserverpb;
using Bulwark.Bench.Load;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Bulwark.Bench.Compare;

/// <summary>A one-client put and get sample (latency of each, to the leader) at one moment of the run.</summary>
public sealed record ResponsivenessSample(PhaseResult Put, PhaseResult Get);

/// <summary>RSS of every member at rest, with the watches open, and with the leases granted as well; a latency sample at each stage.</summary>
public sealed record WatchLeaseMemoryResult(
    string System,
    int Watches,
    int Streams,
    int Leases,
    int KeysPerLease,
    IReadOnlyList<long> BaselineRss,
    IReadOnlyList<long> WatchesRss,
    IReadOnlyList<long> LeasesRss,
    double WatchesOpenSeconds,
    double LeasesGrantSeconds,
    int LeasesFailed,
    ResponsivenessSample Idle,
    ResponsivenessSample WithWatches,
    ResponsivenessSample WithLeases)
{
    /// <summary>RSS growth of the cluster (all members) per watch opened.</summary>
    public double BytesPerWatch => (WatchesRss.Sum() - BaselineRss.Sum()) / (double)Watches;

    /// <summary>RSS growth of the average member per lease granted with its keys (every member holds every lease).</summary>
    public double BytesPerLease => (LeasesRss.Average() - WatchesRss.Average()) / (Leases - LeasesFailed);
}

/// <summary>
/// Deliverable 5 of issue 17: memory with 100,000 watches and 10,000 leases. Watches are spread the way many clients
/// would put them: <c>streams</c> gRPC Watch streams, each on its own connection, round-robin over the members, each
/// stream watching <c>watches/streams</c> keys of its own (one key per watch). Then leases are granted through the
/// leader (TTL one hour, so none expires during the run and no keep-alive traffic is needed), each with
/// <c>keysPerLease</c> keys attached in one Txn. The watches stay open while the leases exist. After each stage the
/// members rest a few seconds, their RSS is read, and one client times puts and linearizable gets on the leader.
/// </summary>
public sealed class WatchLeaseMemoryBench(BenchSettings settings, TextWriter log)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(5);

    public async Task<WatchLeaseMemoryResult> RunAsync(ClusterUnderTest cluster, int watches, int streams, int leases, int keysPerLease)
    {
        var leader = await cluster.WaitForLeaderAsync(settings.Patience).ConfigureAwait(false);
        var kv = cluster.Kv(leader);
        // Unmeasured puts first, so Bulwark's JIT has tiered up before the idle sample (as every other mode does).
        var warm = ByteString.CopyFrom(new byte[256]);
        await ClosedLoop.RunAsync(4, TimeSpan.Zero, settings.ClusterWarmup, (c, _) =>
            kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"wm-warm/{c}"), Value = warm }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync).ConfigureAwait(false);
        await Task.Delay(Settle).ConfigureAwait(false);
        var idle = await SampleAsync(kv, "idle").ConfigureAwait(false);
        var baseline = Rss(cluster);

        using var stop = new CancellationTokenSource();
        var channels = new List<GrpcChannel>();
        var calls = new List<AsyncDuplexStreamingCall<WatchRequest, WatchResponse>>();
        var readers = new List<Task>();
        long created = 0;
        var opening = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            for (var s = 0; s < streams; s++)
            {
                var channel = LoadRunner.CreateChannel(cluster.ClientUrls[s % cluster.Size], cluster.TrustedCa, cluster.ClientCertificate);
                channels.Add(channel);
                var call = new Watch.WatchClient(channel).Watch(cancellationToken: stop.Token);
                calls.Add(call);
                readers.Add(ReadAsync(call, () => Interlocked.Increment(ref created), stop.Token));
            }

            // All streams open their watches at once, as a fleet of clients starting would.
            await Task.WhenAll(calls.Select((call, s) => Task.Run(async () =>
            {
                for (var w = 0; w < watches / streams; w++)
                {
                    await call.RequestStream.WriteAsync(new WatchRequest
                    {
                        CreateRequest = new WatchCreateRequest { Key = ByteString.CopyFromUtf8($"wm/{s:D3}/{w:D5}") },
                    }).ConfigureAwait(false);
                }
            }))).ConfigureAwait(false);
            await WaitAsync(() => Interlocked.Read(ref created) >= watches, $"{cluster.System}: {watches} watches created", readers).ConfigureAwait(false);
            var watchesOpen = opening.Elapsed.TotalSeconds;
            await Task.Delay(Settle).ConfigureAwait(false);
            var withWatchesRss = Rss(cluster);
            var withWatches = await SampleAsync(kv, "watches").ConfigureAwait(false);
            log.WriteLine(FormattableString.Invariant(
                $"  {cluster.System,-8} {watches} watches on {streams} streams opened in {watchesOpen:0.0} s; RSS per member {MiB(baseline)} -> {MiB(withWatchesRss)} MiB"));

            var granting = System.Diagnostics.Stopwatch.StartNew();
            var leasesFailed = await GrantLeasesAsync(cluster, leader, leases, keysPerLease).ConfigureAwait(false);
            var leasesGranted = granting.Elapsed.TotalSeconds;
            await cluster.WaitForCatchUpAsync(settings.Patience).ConfigureAwait(false);
            await Task.Delay(Settle).ConfigureAwait(false);
            var withLeasesRss = Rss(cluster);
            var withLeases = await SampleAsync(kv, "leases").ConfigureAwait(false);
            log.WriteLine(FormattableString.Invariant(
                $"  {cluster.System,-8} {leases} leases with {keysPerLease} keys each granted in {leasesGranted:0.0} s ({leasesFailed} failed); RSS per member {MiB(withLeasesRss)} MiB"));

            var result = new WatchLeaseMemoryResult(cluster.System, watches, streams, leases, keysPerLease, baseline, withWatchesRss, withLeasesRss,
                watchesOpen, leasesGranted, leasesFailed, idle, withWatches, withLeases);
            log.WriteLine(FormattableString.Invariant(
                $"  {cluster.System,-8} {result.BytesPerWatch:0} B per watch (cluster), {result.BytesPerLease:0} B per lease (member)"));
            return result;
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(readers).ConfigureAwait(false);
            foreach (var call in calls)
            {
                call.Dispose();
            }

            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }

    private static async Task ReadAsync(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call, Action onCreated, CancellationToken stop)
    {
        try
        {
            while (await call.ResponseStream.MoveNext(stop).ConfigureAwait(false))
            {
                if (call.ResponseStream.Current.Created)
                {
                    onCreated();
                }
            }
        }
        catch (RpcException) when (stop.IsCancellationRequested)
        {
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Grants the leases from 16 clients on the leader; each lease's keys are put in one Txn bound to it. A grant or
    /// Txn that fails (a deadline of 60 s passed) is counted and the client goes on: how many did is part of the result.
    /// </summary>
    private async Task<int> GrantLeasesAsync(ClusterUnderTest cluster, int leader, int leases, int keysPerLease)
    {
        var lease = new Lease.LeaseClient(cluster.Channel(leader));
        var kv = cluster.Kv(leader);
        var value = ByteString.CopyFrom(new byte[64]);
        var next = -1;
        var failed = 0;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < leases)
            {
                try
                {
                    var granted = await lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 3600 }, deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync.ConfigureAwait(false);
                    var txn = new TxnRequest();
                    for (var k = 0; k < keysPerLease; k++)
                    {
                        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8($"wl/{n:D5}/{k}"), Value = value, Lease = granted.ID } });
                    }

                    await kv.TxnAsync(txn, deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync.ConfigureAwait(false);
                }
                catch (RpcException e)
                {
                    if (Interlocked.Increment(ref failed) <= 3)
                    {
                        log.WriteLine($"    {cluster.System}: lease {n} failed: {e.StatusCode} {e.Status.Detail}");
                    }
                }
            }
        }))).ConfigureAwait(false);
        return failed;
    }

    /// <summary>One client, back to back: puts of 256 B on the leader, then linearizable gets of the same key.</summary>
    private async Task<ResponsivenessSample> SampleAsync(KV.KVClient kv, string stage)
    {
        var key = ByteString.CopyFromUtf8("wm-sample");
        var value = ByteString.CopyFrom(new byte[256]);
        var duration = TimeSpan.FromSeconds(Math.Min(5, settings.Duration.TotalSeconds));
        var put = await ClosedLoop.RunAsync(1, settings.Warmup, duration, (_, _) =>
            kv.PutAsync(new PutRequest { Key = key, Value = value }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync).ConfigureAwait(false);
        var get = await ClosedLoop.RunAsync(1, settings.Warmup, duration, (_, _) =>
            kv.RangeAsync(new RangeRequest { Key = key }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync).ConfigureAwait(false);
        log.WriteLine(FormattableString.Invariant(
            $"    sample ({stage}): put p50 {put.P50Ms:0.00} p99 {put.P99Ms:0.00} ms, get p50 {get.P50Ms:0.00} p99 {get.P99Ms:0.00} ms (load {get.LoadAverage:0.0})"));
        return new ResponsivenessSample(put, get);
    }

    private static async Task WaitAsync(Func<bool> done, string what, IReadOnlyList<Task> readers)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (!done())
        {
            if (readers.FirstOrDefault(r => r.IsFaulted) is { } failed)
            {
                throw new InvalidOperationException($"{what}: a watch stream failed: {failed.Exception?.InnerException?.Message}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what}: not within 5 minutes");
            }

            await Task.Delay(50).ConfigureAwait(false);
        }

    }

    private static long[] Rss(ClusterUnderTest cluster) => cluster.Pids.Select(ProcStat.ResidentBytes).ToArray();

    private static string MiB(IEnumerable<long> rss) =>
        string.Join(" / ", rss.Select(b => (b / 1048576.0).ToString("0", System.Globalization.CultureInfo.InvariantCulture)));
}
