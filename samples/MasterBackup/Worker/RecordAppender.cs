using Bulwark.Client;
using Bulwark.Client.Hosting;
using Microsoft.Extensions.Options;

namespace MasterBackup.Worker;

/// <summary>
/// The master's work: append numbered records, one every interval and one per POST /records, each under the fencing
/// guard (the leader key still has our token's create revision) and the compare that its number is not taken.
/// </summary>
/// <remarks>
/// Why no gap and no duplicate across failovers: a new master reads the last record only after it won (its campaign
/// returns after the old leader key is gone), and any write of the old master that reaches the log after that is
/// refused by the guard; two writers racing for one number cannot both pass "the number is not taken".
/// </remarks>
public sealed class RecordAppender(
    BulwarkClient client,
    IOptions<LeaderElectionOptions> options,
    WorkerSettings settings,
    ILogger<RecordAppender> logger)
    : LeaderBackgroundService(client, options, logger)
{
    private readonly RecordStore store = new(client, settings.Prefix);
    private readonly SemaphoreSlim gate = new(1, 1);
    private volatile Term? term;
    private long lastN = -1;

    /// <summary>The last record number this instance read or wrote, or null before it first led.</summary>
    public long? LastN => Interlocked.Read(ref lastN) is var n && n >= 0 ? n : null;

    /// <summary>Appends one record now, as master; <see cref="AppendOutcome.NotMaster"/> when this instance does not lead.</summary>
    public async Task<(AppendOutcome Outcome, Record? Record)> AppendNowAsync(CancellationToken cancellationToken)
    {
        if (term is not { } current || !IsLeader)
        {
            return (AppendOutcome.NotMaster, null);
        }

        return await AppendAsync(current, cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsLeaderAsync(CancellationToken leadershipToken, FencingToken fencingToken)
    {
        var last = await store.ReadLastAsync(leadershipToken).ConfigureAwait(false);
        var current = new Term(fencingToken, (last?.N ?? 0) + 1);
        Interlocked.Exchange(ref lastN, last?.N ?? 0);
        WorkerLog.Mastering(Logger, settings.Instance, fencingToken.Revision, last?.N ?? 0, current.Next);
        term = current;
        try
        {
            while (!leadershipToken.IsCancellationRequested)
            {
                // Neither the wait nor the write below is cancelled by the leadership token, on purpose: a process
                // paused here (GC, SIGSTOP) wakes up believing it is master, and what keeps its write out is the
                // fencing guard in the Txn, not this process's view. The wait is short; the write is bounded by the
                // client's request timeout.
                await Task.Delay(settings.Interval, CancellationToken.None).ConfigureAwait(false);
                var (outcome, _) = await AppendAsync(current, CancellationToken.None).ConfigureAwait(false);
                if (outcome == AppendOutcome.Refused)
                {
                    return;
                }
            }
        }
        finally
        {
            term = null;
            WorkerLog.Stopped(Logger, settings.Instance, Interlocked.Read(ref lastN), fencingToken.Revision);
        }
    }

    private ILogger<RecordAppender> Logger => logger;

    private async Task<(AppendOutcome Outcome, Record? Record)> AppendAsync(Term current, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (current.Refused)
            {
                return (AppendOutcome.Refused, null);
            }

            if (current.NeedsResync)
            {
                // A write timed out or failed in flight: it may have been applied. Continue after what is there.
                var last = await store.ReadLastAsync(cancellationToken).ConfigureAwait(false);
                current.Next = (last?.N ?? 0) + 1;
                current.NeedsResync = false;
            }

            var record = new Record(current.Next, settings.Instance, current.Token.Revision);
            bool appended;
            try
            {
                appended = await store.TryAppendAsync(current.Token, record, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                current.NeedsResync = true;
                WorkerLog.Unknown(Logger, record.N, $"{e.GetType().Name}: {e.Message}");
                return (AppendOutcome.Failed, null);
            }

            if (!appended)
            {
                current.Refused = true;
                WorkerLog.Refused(Logger, record.N, current.Token.Revision);
                return (AppendOutcome.Refused, null);
            }

            current.Next = record.N + 1;
            Interlocked.Exchange(ref lastN, record.N);
            return (AppendOutcome.Appended, record);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>One leadership's state: its token, the next number, whether the guard refused it.</summary>
    private sealed class Term(FencingToken token, long next)
    {
        public FencingToken Token { get; } = token;

        public long Next { get; set; } = next;

        public bool NeedsResync { get; set; }

        public bool Refused { get; set; }
    }
}

/// <summary>What became of one append.</summary>
public enum AppendOutcome
{
    /// <summary>Written.</summary>
    Appended,

    /// <summary>This instance is not the master (as it knows).</summary>
    NotMaster,

    /// <summary>The guard refused the write: the leadership is gone (or the number was taken); the master steps down.</summary>
    Refused,

    /// <summary>The write failed or timed out; its outcome is unknown (the next write re-reads the last record).</summary>
    Failed,
}
