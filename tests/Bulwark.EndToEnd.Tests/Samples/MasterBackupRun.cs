using System.Net;
using System.Text;
using Bulwark.Api.Etcdserverpb;
using Bulwark.TestSupport;
using Google.Protobuf;
using Grpc.Core;
using Xunit.Abstractions;

namespace Bulwark.EndToEnd.Tests.Samples;

/// <summary>
/// The steps the MasterBackup tests share, on Bulwark or on etcd: find the master, kill it and time the takeover,
/// read every record and audit the run.
/// </summary>
internal sealed class MasterBackupRun(MasterBackupWorkers workers, KV.KVClient kv, ITestOutputHelper output, Func<string> clusterLogs)
{
    public string Diagnostics() => workers.Logs() + Environment.NewLine + clusterLogs();

    /// <summary>
    /// SIGKILLs the master, waits (Eventually's patience) until another worker reports it is master, and returns it
    /// with the takeover time: from the kill to the moment the new master's campaign returned (its own log line, same
    /// machine clock). The time is printed, never asserted.
    /// </summary>
    public async Task<(int Master, TimeSpan Takeover)> KillMasterAndTimeTakeoverAsync(int master, string label)
    {
        var winsBefore = Enumerable.Range(0, workers.Count).Select(i => workers.WinTimes(i).Count).ToArray();
        var killedAt = DateTimeOffset.UtcNow;
        await workers.KillAsync(master);
        var next = await workers.WaitForMasterAsync(not: master);
        var observedAt = DateTimeOffset.UtcNow;
        // Its log line may still be in the pipe when its status already answers.
        var wins = await Eventually.ValueAsync(
            () => Task.FromResult(workers.WinTimes(next) is { } times && times.Count > winsBefore[next] ? times : null),
            $"{workers.Names[next]}, now master, to log its win",
            diagnostics: Diagnostics);
        var takeover = DateTimeOffset.FromUnixTimeMilliseconds(wins[^1]) - killedAt;
        output.WriteLine($"{label}: SIGKILL of {workers.Names[master]} -> {workers.Names[next]} won after {takeover.TotalMilliseconds:0} ms (its /status said so after {(observedAt - killedAt).TotalMilliseconds:0} ms)");
        return (next, takeover);
    }

    /// <summary>A backup answers POST /records with 503 and the master's URL (asked again if the leadership moved meanwhile).</summary>
    public Task BackupRefersToMasterAsync() => Eventually.TrueAsync(
        async () =>
        {
            var master = await workers.WaitForMasterAsync();
            var backup = (master + 1) % workers.Count;
            using var response = await workers.PostRecordAsync(workers.Urls[backup]);
            var body = await response.Content.ReadAsStringAsync();
            output.WriteLine($"POST /records to backup {workers.Names[backup]}: {(int)response.StatusCode} {body}");
            return response.StatusCode == HttpStatusCode.ServiceUnavailable && body.Contains(workers.Urls[master], StringComparison.Ordinal);
        },
        "a backup to answer 503 naming the master",
        transient: e => e is HttpRequestException or TaskCanceledException,
        diagnostics: Diagnostics);

    /// <summary>
    /// Stops every worker (so records and logs are final), reads every record and checks the run's invariants against
    /// the wins the workers logged.
    /// </summary>
    public async Task<IReadOnlyList<StoredRecord>> AuditAsync()
    {
        await workers.KillAllAsync();
        var records = await ReadRecordsAsync();
        var holders = workers.Holders();
        var violations = RecordAudit.Violations(records, holders);
        output.WriteLine($"{records.Count} records, {holders.Count} leaderships: {string.Join(", ", holders.OrderBy(h => h.Key).Select(h => $"{h.Value}@{h.Key}"))}");
        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations) + Environment.NewLine + Diagnostics());
        return records;
    }

    /// <summary>
    /// Waits until the cluster holds at least <paramref name="more"/> records beyond those it holds now: new records,
    /// which only a master writing after this call can add. Read from the store, not from the workers' status: a backup
    /// that has just taken over reports the last record it read as its own, so "a worker says it reached last + N" was
    /// met by a new master that had written nothing yet (CI: 18 records at the audit, the last master's none).
    /// </summary>
    public async Task WaitForNewRecordsAsync(int more)
    {
        var target = (await ReadRecordsAsync()).Count + more;
        await Eventually.TrueAsync(
            async () => (await ReadRecordsAsync()).Count >= target,
            $"the cluster to hold {target} records",
            diagnostics: Diagnostics);
    }

    private async Task<IReadOnlyList<StoredRecord>> ReadRecordsAsync()
    {
        var prefix = ByteString.CopyFromUtf8(MasterBackupWorkers.Prefix);
        var end = prefix.ToByteArray();
        end[^1]++;
        var response = await Eventually.ValueAsync(
            async () => await kv.RangeAsync(
                new RangeRequest { Key = prefix, RangeEnd = ByteString.CopyFrom(end), SortOrder = RangeRequest.Types.SortOrder.Ascend, SortTarget = RangeRequest.Types.SortTarget.Key },
                deadline: DateTime.UtcNow.AddSeconds(10)),
            "the records to be readable",
            transient: e => e is RpcException,
            diagnostics: Diagnostics);
        return response.Kvs
            .Select(k => RecordAudit.Parse(MasterBackupWorkers.Prefix, k.Key.ToStringUtf8(), Encoding.UTF8.GetString(k.Value.Span)))
            .ToList();
    }
}
