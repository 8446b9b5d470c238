using System.Net;
using Bulwark.EndToEnd.Tests.Compatibility;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.TestSupport;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Bulwark.EndToEnd.Tests.Samples;

/// <summary>
/// samples/MasterBackup for real: a 3-member Bulwark cluster (or a Debian etcd 3.4), three worker processes and the
/// router. The master is killed or frozen; a backup must take over, the frozen one must be fenced off and step down,
/// and over the whole run the records have no gap, no duplicate, and each was written by the holder of its token.
/// </summary>
public sealed class MasterBackupTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Sigkill_of_the_master_hands_over_to_a_backup_with_no_gap_and_no_duplicate()
    {
        await using var cluster = await ProcessCluster.StartAsync(3);
        await using var workers = MasterBackupWorkers.Start(3, cluster.Endpoints, ttlSeconds: 5, releaseOnDisconnect: true, router: true);
        var run = new MasterBackupRun(workers, cluster.Kv(0), output, cluster.Logs);

        await workers.WaitForRecordAsync(10);
        await run.BackupRefersToMasterAsync();
        await RouterAppendsAsync(workers, run);

        await run.KillMasterAndTimeTakeoverAsync(await workers.WaitForMasterAsync(), "Bulwark, release on disconnect");
        await run.WaitForNewRecordsAsync(10);
        await RouterAppendsAsync(workers, run);

        // A second takeover, to the last worker standing.
        await run.KillMasterAndTimeTakeoverAsync(await workers.WaitForMasterAsync(), "Bulwark, release on disconnect (second)");
        // The last worker standing appends too before the audit (CI twice audited right after its takeover: 19 and 18
        // records, when the wait trusted the workers' status; it reads the store now).
        await run.WaitForNewRecordsAsync(10);

        var records = await run.AuditAsync();
        Assert.True(records.Count >= 20, $"only {records.Count} records were written");
    }

    [Fact]
    public async Task A_master_frozen_past_its_ttl_is_fenced_off_and_steps_down()
    {
        await using var cluster = await ProcessCluster.StartAsync(3);
        // A short TTL keeps the freeze short; release on disconnect cannot help here (the frozen process keeps its
        // connections open), which is the point: only the TTL and the fencing guard end its leadership.
        // A record every 500 ms: the freeze most likely lands between two writes, so the first thing the master does
        // when it wakes is a write with its stale token (a freeze in the middle of a write ends as "lost" instead).
        await using var workers = MasterBackupWorkers.Start(3, cluster.Endpoints, ttlSeconds: 3, releaseOnDisconnect: true, intervalMs: 500);
        var run = new MasterBackupRun(workers, cluster.Kv(0), output, cluster.Logs);

        await workers.WaitForRecordAsync(5);
        var master = await workers.WaitForMasterAsync();
        var frozenToken = (await workers.TryStatusAsync(master))?.Token;

        var logBeforeFreeze = workers.Output(master).Length;
        workers.Pause(master);
        int next;
        try
        {
            next = await workers.WaitForMasterAsync(not: master);
            await run.WaitForNewRecordsAsync(3);
        }
        finally
        {
            workers.Resume(master);
        }

        // Awake, the old master believes it leads until it learns otherwise. Its loop's next guarded write is refused
        // (or, if its session's deadline fired first and the loop saw it before writing, the leadership ends as lost);
        // either way the hosting loop ends the leadership and the worker reports it is not master.
        var after = await Eventually.ValueAsync(
            async () =>
            {
                var log = workers.Output(master)[logBeforeFreeze..];
                var ended = log.Contains($"leadership with token {frozenToken} ended", StringComparison.Ordinal);
                return ended && await workers.TryStatusAsync(master) is { IsLeader: false } ? log : null;
            },
            $"{workers.Names[master]} to end its leadership (token {frozenToken}) after the freeze and report it is not master",
            diagnostics: run.Diagnostics);
        var refused = after.Contains("fencing: write refused", StringComparison.Ordinal);
        output.WriteLine($"{workers.Names[master]} after the freeze:{Environment.NewLine}{after}");
        output.WriteLine($"{workers.Names[next]} took over; {workers.Names[master]} (token {frozenToken}) after the freeze: {(refused ? "its guarded write was refused, it stepped down" : "its session's deadline ended the leadership before it wrote")}");
        Assert.True(
            refused || after.Contains($"leadership with token {frozenToken} ended: lost", StringComparison.Ordinal),
            $"{workers.Names[master]} ended its leadership without a refused write or a lost session.{Environment.NewLine}{run.Diagnostics()}");

        // Still exactly one master, and it keeps appending.
        await workers.WaitForMasterAsync();
        await run.WaitForNewRecordsAsync(3);
        await run.AuditAsync();
    }

    [Fact]
    public async Task A_master_shut_down_gracefully_resigns_so_a_backup_takes_over_long_before_its_ttl()
    {
        await using var cluster = await ProcessCluster.StartAsync(3);
        // Without release on disconnect and with a TTL far beyond Eventually's patience (60 s), only the resignation
        // on host shutdown can explain a takeover within the patience.
        await using var workers = MasterBackupWorkers.Start(3, cluster.Endpoints, ttlSeconds: 300, releaseOnDisconnect: false);
        var run = new MasterBackupRun(workers, cluster.Kv(0), output, cluster.Logs);

        await workers.WaitForRecordAsync(5);
        var master = await workers.WaitForMasterAsync();
        var token = (await workers.TryStatusAsync(master))?.Token;
        await workers.TerminateAsync(master);
        await Eventually.TrueAsync(
            () => workers.Output(master).Contains($"resigned leadership with token {token}", StringComparison.Ordinal),
            $"{workers.Names[master]}'s log to show it resigned token {token} on shutdown",
            diagnostics: run.Diagnostics);

        var next = await workers.WaitForMasterAsync(not: master);
        await run.WaitForNewRecordsAsync(5);
        output.WriteLine($"{workers.Names[master]} resigned token {token} on SIGTERM; {workers.Names[next]} took over");
        await run.AuditAsync();
    }

    [Fact]
    public async Task Sigkill_of_the_master_hands_over_on_a_real_etcd_too()
    {
        var etcd = new ReferenceEtcd();
        await etcd.InitializeAsync();
        try
        {
            using var channel = GrpcChannel.ForAddress($"http://{etcd.Endpoint}");
            // etcd ignores the release-on-disconnect header: the takeover waits for the lease's TTL.
            await using var workers = MasterBackupWorkers.Start(3, $"http://{etcd.Endpoint}", ttlSeconds: 3, releaseOnDisconnect: true, router: true);
            var run = new MasterBackupRun(workers, new Api.Etcdserverpb.KV.KVClient(channel), output, () => etcd.Log);

            await workers.WaitForRecordAsync(10);
            await run.BackupRefersToMasterAsync();
            await RouterAppendsAsync(workers, run);

            await run.KillMasterAndTimeTakeoverAsync(await workers.WaitForMasterAsync(), "etcd 3.4 (TTL 3 s)");
            await run.WaitForNewRecordsAsync(10);
            await RouterAppendsAsync(workers, run);
            await run.AuditAsync();
        }
        finally
        {
            await etcd.DisposeAsync();
        }
    }

    /// <summary>The router forwards POST /records to the master (eventually: it learns of a new master by its watch).</summary>
    private static Task RouterAppendsAsync(MasterBackupWorkers workers, MasterBackupRun run) => Eventually.TrueAsync(
        async () =>
        {
            using var response = await workers.PostRecordAsync(workers.RouterUrl);
            return response.StatusCode == HttpStatusCode.OK;
        },
        "the router to append a record through the master",
        transient: e => e is HttpRequestException or TaskCanceledException,
        diagnostics: run.Diagnostics);
}
