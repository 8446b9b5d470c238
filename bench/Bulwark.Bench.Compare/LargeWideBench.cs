using Bulwark.Api.Etcdserverpb;
using Bulwark.Bench.Load;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Bulwark.Bench.Compare;

/// <summary>One measured phase of --large or --wide: what was called (e.g. "put 1 MiB", "range 10,000 keys, serializable").</summary>
public sealed record LargeWideRow(string System, string Mode, string Operation, PhaseResult Phase);

/// <summary>
/// Issue 17's large values and wide reads, every call to the leader, one HTTP/2 connection per client.
/// --large: puts of 1 MiB values (incompressible bytes) from 1 and 16 clients, then linearizable gets of them; history
/// is compacted after each put phase so neither system carries gigabytes of old versions into the next phase.
/// --wide: 10,000 keys of 256 B under one prefix, then range reads of the whole prefix (linearizable, serializable,
/// keys-only, count-only) from 1 and 16 clients.
/// </summary>
public sealed class LargeWideBench(BenchSettings settings, TextWriter log)
{
    public const int LargeValueBytes = 1 << 20;

    public const int WideKeys = 10_000;

    /// <summary>Distinct keys per client in --large, so puts overwrite a small set and gets hit stored values.</summary>
    private const int KeysPerClient = 8;

    private static readonly int[] ClientCounts = [1, 16];

    public async Task<List<LargeWideRow>> RunLargeAsync(ClusterUnderTest cluster)
    {
        var leader = await cluster.WaitForLeaderAsync(settings.Patience).ConfigureAwait(false);
        var bytes = new byte[LargeValueBytes];
        new Random(17).NextBytes(bytes);
        var value = ByteString.CopyFrom(bytes);
        static ByteString Key(int client, long n) => ByteString.CopyFromUtf8($"lg/{client:D2}/{n % KeysPerClient}");
        var rows = new List<LargeWideRow>();
        using var clients = new Clients(cluster, leader, ClientCounts.Max());
        foreach (var count in ClientCounts)
        {
            var phase = await ClosedLoop.RunAsync(count, settings.Warmup, settings.Duration, (c, n) =>
                clients[c].PutAsync(new PutRequest { Key = Key(c, n), Value = value }, deadline: Deadline()).ResponseAsync).ConfigureAwait(false);
            rows.Add(Report(cluster, "large", "put 1 MiB", phase));
            await CompactAsync(clients[0]).ConfigureAwait(false);
        }

        // The gets read a set of their own, written first (a slow put phase need not have reached every client's keys).
        static ByteString GetKey(long k) => ByteString.CopyFromUtf8($"lg/get/{k % KeysPerClient}");
        for (var k = 0; k < KeysPerClient; k++)
        {
            await clients[0].PutAsync(new PutRequest { Key = GetKey(k), Value = value }, deadline: Deadline()).ResponseAsync.ConfigureAwait(false);
        }

        foreach (var count in ClientCounts)
        {
            var phase = await ClosedLoop.RunAsync(count, settings.Warmup, settings.Duration, async (c, n) =>
            {
                var response = await clients[c].RangeAsync(new RangeRequest { Key = GetKey(c + n) }, deadline: Deadline()).ResponseAsync.ConfigureAwait(false);
                Expect(response.Kvs.Count == 1 && response.Kvs[0].Value.Length == LargeValueBytes, $"{cluster.System}: get of a 1 MiB value returned {response.Kvs.Count} keys");
            }).ConfigureAwait(false);
            rows.Add(Report(cluster, "large", "get 1 MiB, linearizable", phase));
        }

        return rows;
    }

    public async Task<List<LargeWideRow>> RunWideAsync(ClusterUnderTest cluster)
    {
        var leader = await cluster.WaitForLeaderAsync(settings.Patience).ConfigureAwait(false);
        await KeyLoader.LoadAsync(cluster.Kv(leader), WideKeys, prefix: "wd/").ConfigureAwait(false);
        await cluster.WaitForCatchUpAsync(settings.Patience).ConfigureAwait(false);
        var key = ByteString.CopyFromUtf8("wd/");
        var end = ByteString.CopyFromUtf8("wd0");
        (string Name, Func<RangeRequest> Request, Func<RangeResponse, bool> Complete)[] variants =
        [
            ("linearizable", () => new RangeRequest { Key = key, RangeEnd = end }, r => r.Kvs.Count == WideKeys && r.Kvs[0].Value.Length == 256),
            ("serializable", () => new RangeRequest { Key = key, RangeEnd = end, Serializable = true }, r => r.Kvs.Count == WideKeys),
            ("keys-only, linearizable", () => new RangeRequest { Key = key, RangeEnd = end, KeysOnly = true }, r => r.Kvs.Count == WideKeys && r.Kvs[0].Value.IsEmpty),
            ("count-only, linearizable", () => new RangeRequest { Key = key, RangeEnd = end, CountOnly = true }, r => r.Count == WideKeys && r.Kvs.Count == 0),
        ];
        var rows = new List<LargeWideRow>();
        using var clients = new Clients(cluster, leader, ClientCounts.Max());
        foreach (var (name, request, complete) in variants)
        {
            foreach (var count in ClientCounts)
            {
                var phase = await ClosedLoop.RunAsync(count, settings.Warmup, settings.Duration, async (c, _) =>
                {
                    var response = await clients[c].RangeAsync(request(), deadline: Deadline()).ResponseAsync.ConfigureAwait(false);
                    Expect(complete(response), $"{cluster.System}: range of the {WideKeys:N0}-key prefix ({name}) returned {response.Kvs.Count} keys, count {response.Count}");
                }).ConfigureAwait(false);
                rows.Add(Report(cluster, "wide", $"range {WideKeys:N0} keys, {name}", phase));
            }
        }

        return rows;
    }

    private LargeWideRow Report(ClusterUnderTest cluster, string mode, string operation, PhaseResult phase)
    {
        log.WriteLine(FormattableString.Invariant(
            $"  {cluster.System,-8} {operation,-34} {phase.Clients,2} clients: {phase.OpsPerSecond,7:0.0} ops/s, p50 {phase.P50Ms:0.00} ms, p99 {phase.P99Ms:0.00} ms (load {phase.LoadAverage:0.0})"));
        return new LargeWideRow(cluster.System, mode, operation, phase);
    }

    private static async Task CompactAsync(KV.KVClient kv)
    {
        var revision = (await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("lg/"), Limit = 1 }).ResponseAsync.ConfigureAwait(false)).Header.Revision;
        await kv.CompactAsync(new CompactionRequest { Revision = revision, Physical = true }, deadline: DateTime.UtcNow.AddSeconds(120)).ResponseAsync.ConfigureAwait(false);
    }

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(60);

    private static void Expect(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException(what);
        }
    }

    /// <summary>One KV client per benchmark client, each on its own connection to the leader.</summary>
    private sealed class Clients : IDisposable
    {
        private readonly List<GrpcChannel> channels;
        private readonly KV.KVClient[] kv;

        public Clients(ClusterUnderTest cluster, int member, int count)
        {
            channels = Enumerable.Range(0, count).Select(_ => LoadRunner.CreateChannel(cluster.ClientUrls[member], cluster.TrustedCa, cluster.ClientCertificate)).ToList();
            kv = channels.Select(c => new KV.KVClient(c)).ToArray();
        }

        public KV.KVClient this[int i] => kv[i];

        public void Dispose()
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }
}
