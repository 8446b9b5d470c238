using System.Globalization;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv.Errors;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Hosting;

/// <summary>
/// The periodic cross-member corruption check (etcd's --experimental-corrupt-check-time): every interval, if this member
/// leads, it hashes its store at its revision, asks every other member for HashKV at that revision, confirms its
/// leadership with a linearizable read, hashes again, and judges the answers by <see cref="CorruptionCheckRules"/>. A
/// member found inconsistent gets a CORRUPT alarm, proposed through the log, so every member refuses writes until an
/// operator restores that member and disarms the alarm. Off when the interval is zero, as in etcd.
/// </summary>
public sealed class CorruptionCheck : IAsyncDisposable
{
    /// <summary>Result labels of <see cref="Observability.INodeObserver.CorruptionChecked"/> (bulwark_corruption_checks_total).</summary>
    public const string ResultOk = "ok";
    public const string ResultMismatch = "mismatch";
    public const string ResultIncomplete = "incomplete";

    private readonly NodeHost node;
    private readonly TimeSpan interval;
    private readonly IPeerHashSource peers;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly CancellationTokenSource stop = new();
    private Task loop = Task.CompletedTask;

    public CorruptionCheck(NodeHost node, TimeSpan interval, IPeerHashSource peers, ILogger logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(logger);
        if (interval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "the corruption check interval cannot be negative (zero means off)");
        }

        this.node = node;
        this.interval = interval;
        this.peers = peers;
        this.logger = logger;
        this.time = time ?? TimeProvider.System;
    }

    /// <summary>Starts checking every interval (only while this member leads); does nothing when the interval is zero (off).</summary>
    public void Start()
    {
        if (interval == TimeSpan.Zero)
        {
            return;
        }

        CorruptionLog.Enabled(logger, node.MemberId, (long)interval.TotalMilliseconds);
        loop = Task.Run(RunAsync);
    }

    private async Task RunAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stop.Token).ConfigureAwait(false);
                if (node.Status.IsLeader)
                {
                    await CheckOnceAsync(stop.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NodeException or KvException or InvalidOperationException or ObjectDisposedException)
            {
                // Lost leadership, a timeout, or the node stopping: this run proves nothing; the next one tries again.
                CorruptionLog.Failed(logger, e.Message);
                node.Options.Observer?.CorruptionChecked(ResultIncomplete);
            }
        }
    }

    /// <summary>One run of the check (the leader's side); raises the alarm for every member found inconsistent.</summary>
    public async Task<CorruptionVerdict> CheckOnceAsync(CancellationToken cancellationToken)
    {
        var first = LocalHash();
        var others = node.Members.Where(m => m.Id != node.MemberId).ToList();
        var answers = await Task.WhenAll(others.Select(m => peers.HashAsync(m, first.Revision, node.Options.RequestTimeout, cancellationToken))).ConfigureAwait(false);
        await node.LinearizableBarrierAsync(cancellationToken).ConfigureAwait(false);
        var second = LocalHash();

        var verdict = CorruptionCheckRules.Judge(node.MemberId, node.Members.Count, first, second,
            [.. answers.Where(a => a.Hash is not null).Select(a => a.Hash!.Value)]);
        var active = node.ReplicatedAlarms;
        foreach (var corrupt in verdict.Corrupted)
        {
            CorruptionLog.Mismatch(logger, corrupt.MemberId, corrupt.Reason);
            if (active.Contains(new ReplicatedAlarm(corrupt.MemberId, AlarmType.Corrupt)))
            {
                continue; // already raised and not disarmed: do not fill the log with the same alarm every interval
            }

            node.Options.Observer?.CorruptionDetected(corrupt.MemberId, corrupt.Reason, new Dictionary<string, object>
            {
                ["revision"] = first.Revision,
                ["compact_revision"] = first.CompactRevision,
                ["leader_hash"] = first.Hash,
                ["hashes"] = string.Join(",", answers.Where(a => a.Hash is not null)
                    .Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.Hash!.Value.MemberId:x}={a.Hash.Value.Hash}"))),
            });
            await RaiseAsync(corrupt.MemberId, cancellationToken).ConfigureAwait(false);
        }

        var result = !verdict.Consistent ? ResultMismatch : verdict.Compared > 0 ? ResultOk : ResultIncomplete;
        if (verdict.Consistent)
        {
            CorruptionLog.Passed(logger, first.Revision, verdict.Compared, others.Count);
        }

        node.Options.Observer?.CorruptionChecked(result);
        return verdict;
    }

    private MemberHash LocalHash() => node.Read(store =>
    {
        var hash = store.HashKV(0);
        return new MemberHash(node.MemberId, hash.Hash, hash.Revision, hash.CompactRevision);
    });

    private async Task RaiseAsync(ulong memberId, CancellationToken cancellationToken)
    {
        var command = new RaftCommand { Alarm = new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Activate, MemberID = memberId, Alarm = AlarmType.Corrupt } };
        var result = await node.ProposeAsync(command, cancellationToken).ConfigureAwait(false);
        if (result.Error is { } error)
        {
            throw error;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        stop.Dispose();
    }
}
