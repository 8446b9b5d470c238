using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Bench.Load;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Bench.Compare;

/// <summary>Watch fan-out: event delay from put acknowledgement to receipt, server CPU per event delivered, memory per idle watcher.</summary>
public sealed record WatchResult(string System, int Watchers, int Streams, double PutsPerSecond, long EventsDelivered, double DelayP50Ms, double DelayP99Ms,
    double CpuMicrosPerEvent, int IdleWatchers, double BytesPerIdleWatcher);

/// <summary>Leases: server CPU per keep-alive with many leases kept alive at TTL/3, and grant+revoke pairs per second.</summary>
public sealed record LeaseResult(string System, int Leases, double KeepAlivesPerSecond, double CpuMicrosPerKeepAlive, double GrantRevokePerSecond);

/// <summary>
/// Issue 12's side-by-side measurements. Watchers sit on a follower (both systems serve watches from any member); puts
/// go to the leader at a fixed rate. Delays are sampled (one event in <see cref="SampleEvery"/>) to keep the client light.
/// </summary>
public sealed class CoordinationBench(BenchSettings settings, TextWriter log)
{
    private const int SampleEvery = 50;

    public async Task<WatchResult> RunWatchAsync(ClusterUnderTest cluster, int watchers, int streams, int putsPerSecond, int idleWatchers)
    {
        var leader = await cluster.WaitForLeaderAsync(settings.Patience).ConfigureAwait(false);
        var follower = Enumerable.Range(0, cluster.Size).First(i => i != leader);
        var acked = new ConcurrentDictionary<long, long>();
        var samples = new ConcurrentBag<double>();
        long delivered = 0;
        using var stop = new CancellationTokenSource();
        var prefix = ByteString.CopyFromUtf8("wb/");
        var prefixEnd = ByteString.CopyFromUtf8("wb0");
        var calls = new List<AsyncDuplexStreamingCall<WatchRequest, WatchResponse>>();
        var readers = new List<Task>();
        var channels = Enumerable.Range(0, streams).Select(_ => LoadRunner.CreateChannel(cluster.ClientUrls[follower])).ToList();
        int created = 0;
        for (int s = 0; s < streams; s++)
        {
            var call = new Watch.WatchClient(channels[s]).Watch(cancellationToken: stop.Token);
            calls.Add(call);
            for (int w = 0; w < watchers / streams; w++)
            {
                await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = prefix, RangeEnd = prefixEnd } }).ConfigureAwait(false);
            }

            readers.Add(Task.Run(async () =>
            {
                long seen = 0;
                try
                {
                    while (await call.ResponseStream.MoveNext(stop.Token).ConfigureAwait(false))
                    {
                        var response = call.ResponseStream.Current;
                        if (response.Created)
                        {
                            Interlocked.Increment(ref created);
                        }

                        var now = Stopwatch.GetTimestamp();
                        foreach (var ev in response.Events)
                        {
                            Interlocked.Increment(ref delivered);
                            if (++seen % SampleEvery == 0 && acked.TryGetValue(ev.Kv.ModRevision, out var at))
                            {
                                samples.Add(Math.Max(0, Stopwatch.GetElapsedTime(at, now).TotalMilliseconds));
                            }
                        }
                    }
                }
                catch (RpcException) when (stop.IsCancellationRequested)
                {
                }
                catch (OperationCanceledException)
                {
                }
            }));
        }

        await WaitAsync(() => Volatile.Read(ref created) >= watchers, "watchers created").ConfigureAwait(false);
        var kv = cluster.Kv(leader);
        var value = ByteString.CopyFrom(new byte[64]);

        // Unmeasured warm-up at a tenth of the rate, so JIT tiering (Bulwark) and caches settle before the measurement.
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed < settings.ClusterWarmup)
        {
            await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("wb/warm"), Value = value }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync.ConfigureAwait(false);
            await Task.Delay(10).ConfigureAwait(false);
        }

        await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        var pids = cluster.Pids;
        var cpuBefore = ProcStat.CpuSeconds(pids);
        var deliveredBefore = Interlocked.Read(ref delivered);
        var clock = Stopwatch.StartNew();
        long puts = 0;
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            while (clock.Elapsed < settings.Duration)
            {
                long n = Interlocked.Increment(ref puts);
                var due = TimeSpan.FromSeconds((double)n / putsPerSecond);
                if (due > clock.Elapsed)
                {
                    await Task.Delay(due - clock.Elapsed).ConfigureAwait(false);
                }

                var response = await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"wb/{n % 100}"), Value = value },
                    deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync.ConfigureAwait(false);
                acked[response.Header.Revision] = Stopwatch.GetTimestamp();
            }
        })).ToList();
        await Task.WhenAll(writers).ConfigureAwait(false);
        var rate = Interlocked.Read(ref puts) / clock.Elapsed.TotalSeconds;
        // Let the watchers drain what was written, up to a bound.
        var expected = deliveredBefore + (Interlocked.Read(ref puts) * watchers);
        await WaitAsync(() => Interlocked.Read(ref delivered) >= expected * 0.99, "events delivered", TimeSpan.FromSeconds(30), throwOnTimeout: false).ConfigureAwait(false);
        var cpu = ProcStat.CpuSeconds(pids) - cpuBefore;
        var events = Interlocked.Read(ref delivered) - deliveredBefore;
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

        var sorted = samples.Order().ToArray();
        var idle = await IdleWatcherBytesAsync(cluster, follower, idleWatchers).ConfigureAwait(false);
        var result = new WatchResult(cluster.System, watchers, streams, rate, events, Percentile(sorted, 0.5), Percentile(sorted, 0.99),
            events == 0 ? double.NaN : cpu / events * 1e6, idleWatchers, idle);
        log.WriteLine(FormattableString.Invariant(
            $"  {cluster.System,-8} watch: {watchers} watchers / {streams} streams, {rate:0} puts/s, {events} events, delay p50 {result.DelayP50Ms:0.00} ms p99 {result.DelayP99Ms:0.00} ms, cpu {result.CpuMicrosPerEvent:0.00} us/event, {idle:0} B per idle watcher"));
        return result;
    }

    /// <summary>RSS growth of one member per idle watcher, with <paramref name="count"/> watchers on distinct keys over 100 streams.</summary>
    private async Task<double> IdleWatcherBytesAsync(ClusterUnderTest cluster, int member, int count)
    {
        var pid = cluster.PidOf(member);
        GC.KeepAlive(pid);
        await Task.Delay(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        var before = ProcStat.ResidentBytes(pid);
        const int Streams = 100;
        using var stop = new CancellationTokenSource();
        var channels = Enumerable.Range(0, 10).Select(_ => LoadRunner.CreateChannel(cluster.ClientUrls[member])).ToList();
        var calls = new List<AsyncDuplexStreamingCall<WatchRequest, WatchResponse>>();
        long created = 0;
        var readers = new List<Task>();
        for (int s = 0; s < Streams; s++)
        {
            var call = new Watch.WatchClient(channels[s % channels.Count]).Watch(cancellationToken: stop.Token);
            calls.Add(call);
            readers.Add(Task.Run(async () =>
            {
                try
                {
                    while (await call.ResponseStream.MoveNext(stop.Token).ConfigureAwait(false))
                    {
                        if (call.ResponseStream.Current.Created)
                        {
                            Interlocked.Increment(ref created);
                        }
                    }
                }
                catch (RpcException)
                {
                }
                catch (OperationCanceledException)
                {
                }
            }));
            for (int w = 0; w < count / Streams; w++)
            {
                var key = ByteString.CopyFromUtf8(string.Create(CultureInfo.InvariantCulture, $"idle/{s}/{w}"));
                await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = key } }).ConfigureAwait(false);
            }
        }

        await WaitAsync(() => Interlocked.Read(ref created) >= count / Streams * Streams, "idle watchers created", TimeSpan.FromSeconds(120)).ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        var after = ProcStat.ResidentBytes(pid);
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

        return (after - before) / (double)count;
    }

    public async Task<LeaseResult> RunLeasesAsync(ClusterUnderTest cluster, int leases, long ttlSeconds)
    {
        var leader = await cluster.WaitForLeaderAsync(settings.Patience).ConfigureAwait(false);
        var client = new Lease.LeaseClient(cluster.Channel(leader));
        var ids = new ConcurrentBag<long>();
        int next = 0;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) <= leases)
            {
                var granted = await client.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttlSeconds }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync.ConfigureAwait(false);
                ids.Add(granted.ID);
            }
        }))).ConfigureAwait(false);

        // Keep-alives at TTL/3 spread evenly: leases / (TTL/3) per second, over 10 streams; first unmeasured, so JIT
        // tiering (Bulwark) settles, then measured.
        var all = ids.ToArray();
        double perSecond = leases / (ttlSeconds / 3.0);
        await KeepAlivePhaseAsync(client, all, perSecond, settings.ClusterWarmup).ConfigureAwait(false);
        var pids = cluster.Pids;
        var cpuBefore = ProcStat.CpuSeconds(pids);
        var (keepAlives, elapsed) = await KeepAlivePhaseAsync(client, all, perSecond, settings.Duration).ConfigureAwait(false);
        var cpu = ProcStat.CpuSeconds(pids) - cpuBefore;
        var keepAliveRate = keepAlives / elapsed.TotalSeconds;

        // Grant + revoke pairs from 16 clients.
        var pairClock = Stopwatch.StartNew();
        long pairs = 0;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (pairClock.Elapsed < settings.Duration)
            {
                var granted = await client.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttlSeconds }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync.ConfigureAwait(false);
                await client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = granted.ID }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync.ConfigureAwait(false);
                Interlocked.Increment(ref pairs);
            }
        }))).ConfigureAwait(false);
        var pairRate = pairs / pairClock.Elapsed.TotalSeconds;
        var result = new LeaseResult(cluster.System, leases, keepAliveRate, keepAlives == 0 ? double.NaN : cpu / keepAlives * 1e6, pairRate);
        log.WriteLine(FormattableString.Invariant(
            $"  {cluster.System,-8} leases: {leases} kept alive at TTL/3 ({keepAliveRate:0} keep-alives/s), cpu {result.CpuMicrosPerKeepAlive:0.0} us/keep-alive; grant+revoke {pairRate:0} pairs/s"));
        return result;
    }

    /// <summary>Sends keep-alives at <paramref name="perSecond"/> over 10 streams for <paramref name="duration"/>; returns those answered.</summary>
    private async Task<(long Answered, TimeSpan Elapsed)> KeepAlivePhaseAsync(Lease.LeaseClient client, long[] ids, double perSecond, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        long answered = 0;
        long sent = 0;
        var streams = Enumerable.Range(0, 10).Select(_ => Task.Run(async () =>
        {
            using var stop = new CancellationTokenSource();
            using var call = client.LeaseKeepAlive(cancellationToken: stop.Token);
            var reader = Task.Run(async () =>
            {
                try
                {
                    while (await call.ResponseStream.MoveNext(stop.Token).ConfigureAwait(false))
                    {
                        Interlocked.Increment(ref answered);
                    }
                }
                catch (RpcException)
                {
                }
                catch (OperationCanceledException)
                {
                }
            });
            while (clock.Elapsed < duration)
            {
                long n = Interlocked.Increment(ref sent);
                var due = TimeSpan.FromSeconds(n / perSecond);
                if (due > clock.Elapsed)
                {
                    await Task.Delay(due - clock.Elapsed).ConfigureAwait(false);
                }

                await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = ids[n % ids.Length] }).ConfigureAwait(false);
            }

            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            await WaitAsync(() => Interlocked.Read(ref answered) >= Interlocked.Read(ref sent) - 10, "keep-alives answered", TimeSpan.FromSeconds(10), throwOnTimeout: false).ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await reader.ConfigureAwait(false);
        })).ToList();
        await Task.WhenAll(streams).ConfigureAwait(false);
        return (Interlocked.Read(ref answered), clock.Elapsed);
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private async Task WaitAsync(Func<bool> condition, string what, TimeSpan? within = null, bool throwOnTimeout = true)
    {
        var deadline = DateTime.UtcNow + (within ?? settings.Patience);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                if (throwOnTimeout)
                {
                    throw new TimeoutException($"timed out waiting for {what}");
                }

                log.WriteLine($"  (gave up waiting for {what})");
                return;
            }

            await Task.Delay(20).ConfigureAwait(false);
        }
    }
}
