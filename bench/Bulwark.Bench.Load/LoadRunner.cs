using System.Diagnostics;
using Bulwark.Api.Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using HdrHistogram;

namespace Bulwark.Bench.Load;

/// <summary>
/// Drives a cluster that speaks the etcd v3 API: <see cref="LoadOptions.Clients"/> clients over
/// <see cref="LoadOptions.Connections"/> HTTP/2 connections (one <see cref="GrpcChannel"/> each, spread over the
/// endpoints). Connect once, optionally preload, then run as many phases as wanted (a warm-up, then the measured one)
/// so a caller can sample the servers' CPU around exactly the measured phase.
/// </summary>
public sealed class LoadRunner : IDisposable
{
    private readonly LoadOptions options;
    private readonly GrpcChannel[] channels;
    private readonly KV.KVClient[] clients;
    private readonly KeySpace keys;
    private readonly ByteString value;

    public LoadRunner(LoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.options = options;
        channels = Enumerable.Range(0, options.Connections)
            .Select(i => CreateChannel(options.Endpoints[i % options.Endpoints.Count], options.TrustedCa, options.ClientCertificate))
            .ToArray();
        clients = Enumerable.Range(0, options.Clients).Select(i => new KV.KVClient(channels[i % channels.Length])).ToArray();
        keys = new KeySpace(options);
        var bytes = new byte[options.ValueSize];
        new Random(options.Seed).NextBytes(bytes);
        value = ByteString.CopyFrom(bytes);
    }

    public LoadOptions Options => options;

    /// <summary>Opens every connection with one cheap call each, so connection setup is not measured.</summary>
    public async Task ConnectAsync(CancellationToken cancel = default)
    {
        await Task.WhenAll(channels.Select(async channel =>
        {
            var kv = new KV.KVClient(channel);
            await kv.RangeAsync(new RangeRequest { Key = keys[0], Serializable = true }, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancel).ResponseAsync.ConfigureAwait(false);
        })).ConfigureAwait(false);
    }

    /// <summary>Writes every key of the key space once (all clients in parallel).</summary>
    public async Task PreloadAsync(CancellationToken cancel = default)
    {
        var counters = new PhaseCounters(null);
        await Task.WhenAll(Workers(options, counters).Select(w => Task.Run(() => w.PreloadAsync(cancel), cancel))).ConfigureAwait(false);
    }

    /// <summary>Runs one phase of <paramref name="duration"/> (or of <see cref="LoadOptions.TotalOps"/> operations) and reports it.</summary>
    public async Task<LoadResult> RunPhaseAsync(TimeSpan duration, long? totalOps, CancellationToken cancel = default)
    {
        var counters = new PhaseCounters(totalOps);
        var workers = Workers(options, counters);
        var start = Stopwatch.GetTimestamp();
        var end = totalOps is null ? start + (long)(duration.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        await Task.WhenAll(workers.Select(w => Task.Run(() => w.RunAsync(start, end, cancel), cancel))).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(start);

        var merged = new LongHistogram(1, ClientWorker.MaxMicros, 3);
        foreach (var w in workers)
        {
            merged.Add(w.Histogram);
        }

        return new LoadResult
        {
            Workload = options.Workload.ToString().ToLowerInvariant(),
            Consistency = options.Consistency.ToString().ToLowerInvariant(),
            Clients = options.Clients,
            Connections = options.Connections,
            KeySize = options.KeySize,
            ValueSize = options.ValueSize,
            TargetRate = options.Rate,
            Ops = counters.Ops,
            Errors = counters.ErrorCount,
            ErrorsByKind = new SortedDictionary<string, long>(counters.Errors.ToDictionary(e => e.Key, e => e.Value), StringComparer.Ordinal),
            ElapsedSeconds = elapsed.TotalSeconds,
            LatencyMs = Summarize(merged),
        };
    }

    /// <summary>Connect, preload if asked, run the options' phase.</summary>
    public async Task<LoadResult> RunAsync(CancellationToken cancel = default)
    {
        await ConnectAsync(cancel).ConfigureAwait(false);
        if (options.Preload)
        {
            await PreloadAsync(cancel).ConfigureAwait(false);
        }

        return await RunPhaseAsync(options.Duration, options.TotalOps, cancel).ConfigureAwait(false);
    }

    public void Dispose()
    {
        foreach (var channel in channels)
        {
            channel.Dispose();
        }
    }

    /// <summary>A channel bound to exactly one HTTP/2 connection, so --conns means connections.</summary>
    public static GrpcChannel CreateChannel(string endpoint) => CreateChannel(endpoint, null, null);

    /// <summary>A channel to <paramref name="endpoint"/>; an https one trusts <paramref name="trustedCa"/> (null: the
    /// system's roots) and presents <paramref name="clientCertificate"/> when given.</summary>
    public static GrpcChannel CreateChannel(
        string endpoint,
        System.Security.Cryptography.X509Certificates.X509Certificate2Collection? trustedCa,
        System.Security.Cryptography.X509Certificates.X509Certificate2? clientCertificate)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = false,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
        }

        if (trustedCa is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                Bulwark.Api.Security.CustomCaTrust.IsTrusted(certificate, errors, trustedCa, checkName: true);
        }

        return GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    private ClientWorker[] Workers(LoadOptions o, PhaseCounters counters) =>
        Enumerable.Range(0, o.Clients).Select(i => new ClientWorker(i, clients[i], o, keys, value, counters)).ToArray();

    private static LatencySummary Summarize(LongHistogram h)
    {
        if (h.TotalCount == 0)
        {
            return new LatencySummary(0, 0, 0, 0, 0, 0);
        }

        static double Ms(long micros) => micros / 1000.0;
        return new LatencySummary(
            Math.Round(h.GetMean() / 1000.0, 3),
            Ms(h.GetValueAtPercentile(50)),
            Ms(h.GetValueAtPercentile(90)),
            Ms(h.GetValueAtPercentile(99)),
            Ms(h.GetValueAtPercentile(99.9)),
            Ms(h.GetMaxValue()));
    }
}
