using Bulwark.Api.Etcdserverpb;
using Google.Protobuf;

namespace Bulwark.Bench.Compare;

/// <summary>Resident memory of each node: before loading, after loading the keys, and after compacting all history.</summary>
public sealed record MemoryResult(string System, int Keys, IReadOnlyList<long> BaselineRss, IReadOnlyList<long> LoadedRss, IReadOnlyList<long> CompactedRss)
{
    public double MeanLoadedMiB => LoadedRss.Average() / (1 << 20);

    public double MeanCompactedMiB => CompactedRss.Average() / (1 << 20);

    /// <summary>Growth of the average node per key loaded.</summary>
    public double BytesPerKeyLoaded => (LoadedRss.Average() - BaselineRss.Average()) / Keys;

    public double BytesPerKeyCompacted => (CompactedRss.Average() - BaselineRss.Average()) / Keys;
}

/// <summary>Loads N keys (16-byte keys, 256-byte values; <see cref="KeyLoader"/>), then compacts.</summary>
public sealed class MemoryBench(BenchSettings settings, TextWriter log)
{
    public async Task<MemoryResult> RunAsync(ClusterUnderTest cluster)
    {
        var leader = await cluster.WaitForLeaderAsync(settings.Patience).ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        var baseline = Rss(cluster);
        var kv = cluster.Kv(leader);
        await KeyLoader.LoadAsync(kv, settings.MemoryKeys).ConfigureAwait(false);

        await cluster.WaitForCatchUpAsync(settings.Patience).ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        var loaded = Rss(cluster);

        var revision = (await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("m"), Limit = 1 }).ResponseAsync.ConfigureAwait(false)).Header.Revision;
        await kv.CompactAsync(new CompactionRequest { Revision = revision, Physical = true }, deadline: DateTime.UtcNow.AddSeconds(120)).ResponseAsync.ConfigureAwait(false);
        await cluster.WaitForCatchUpAsync(settings.Patience).ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        var compacted = Rss(cluster);

        var result = new MemoryResult(cluster.System, settings.MemoryKeys, baseline, loaded, compacted);
        log.WriteLine(FormattableString.Invariant(
            $"  {cluster.System,-8} {settings.MemoryKeys} keys: RSS per node {result.MeanLoadedMiB:0.0} MiB loaded, {result.MeanCompactedMiB:0.0} MiB after compaction; {result.BytesPerKeyLoaded:0} / {result.BytesPerKeyCompacted:0} bytes per key"));
        return result;
    }

    private static long[] Rss(ClusterUnderTest cluster) => cluster.Pids.Select(ProcStat.ResidentBytes).ToArray();
}
