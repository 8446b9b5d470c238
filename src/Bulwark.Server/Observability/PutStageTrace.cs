using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using Bulwark.Consensus;

namespace Bulwark.Server.Observability;

/// <summary>
/// Where a put spends its time inside a member (issue 17): monotonic timestamps at each <see cref="PutStage"/>, kept per
/// put in a ring of the newest <see cref="Capacity"/> log indexes, summarized by <see cref="PutStageReport"/>.
/// Off unless the process starts with <c>BULWARK_TRACE_PUT_STAGES=1</c>: <see cref="Enabled"/> is a static readonly
/// field read once, which the JIT folds into a constant, so every call site (<c>if (PutStageTrace.Enabled) ...</c>) costs
/// nothing when it is off. When on it costs about a microsecond per stamp and one small object per put. Per process (a
/// test host running several members in one process mixes theirs), for benchmarks, never for production.
/// </summary>
public static class PutStageTrace
{
    public const string EnvironmentVariable = "BULWARK_TRACE_PUT_STAGES";

    /// <summary>Puts (log indexes) kept; older ones are overwritten.</summary>
    public const int Capacity = 16384;

    private const int Mask = Capacity - 1;

    // Acknowledgements and commits cover a range of indexes: stamping walks back at most this far.
    private const int MaxWalk = 256;

    public static readonly bool Enabled = IsOn(Environment.GetEnvironmentVariable(EnvironmentVariable));

    private static readonly PutSpan?[] Ring = new PutSpan?[Enabled ? Capacity : 0];
    private static readonly ConcurrentDictionary<ulong, PutSpan> ByRequest = new();
    private static PutStageBaseline baseline = PutStageBaseline.Now();

    // Set by the gRPC handler and taken by NodeHost.ProposeAsync on the same thread (the path between them is synchronous).
    [ThreadStatic]
    private static long enteredAt;

    public static bool IsOn(string? value) => value is "1" or "true" or "on";

    /// <summary>The KV.Put handler was entered at <paramref name="timestamp"/> (Stopwatch ticks).</summary>
    public static void EnterPut(long timestamp) => enteredAt = timestamp;

    /// <summary>NodeHost is posting the proposal <paramref name="requestId"/>; traced only if it is a put (<see cref="EnterPut"/>).</summary>
    public static void Posting(ulong requestId)
    {
        var entered = enteredAt;
        enteredAt = 0;
        if (entered == 0)
        {
            return;
        }

        if (ByRequest.Count >= Capacity)
        {
            ByRequest.Clear(); // puts whose handler never resumed (failed calls): a bound, not a leak
        }

        var span = new PutSpan();
        span.StampAt(PutStage.GrpcEntered, entered);
        span.Stamp(PutStage.Posted);
        ByRequest[requestId] = span;
    }

    public static void StampRequest(ulong requestId, PutStage stage)
    {
        if (ByRequest.TryGetValue(requestId, out var span))
        {
            span.Stamp(stage);
        }
    }

    /// <summary>The core appended the proposal <paramref name="requestId"/> at <paramref name="index"/>.</summary>
    public static void Proposed(ulong requestId, ulong index)
    {
        if (ByRequest.TryGetValue(requestId, out var span))
        {
            span.Index = index;
            span.Stamp(PutStage.Proposed);
            Volatile.Write(ref Ring[(int)(index & Mask)], span);
        }
    }

    /// <summary>The handler resumed with the result of <paramref name="requestId"/>: the put's span is complete.</summary>
    public static void Resumed(ulong requestId)
    {
        if (ByRequest.TryRemove(requestId, out var span))
        {
            span.Stamp(PutStage.Resumed);
        }
    }

    /// <summary>The caller gave up or the put failed: its span is dropped (it never reaches the report).</summary>
    public static void Forget(ulong requestId)
    {
        if (ByRequest.TryRemove(requestId, out var span))
        {
            span.Failed = true;
        }
    }

    public static void StampEntries(ImmutableArray<Entry> entries, PutStage stage)
    {
        var count = Math.Min(entries.Length, MaxWalk);
        for (var i = entries.Length - count; i < entries.Length; i++)
        {
            At(entries[i].Index)?.Stamp(stage);
        }
    }

    /// <summary>Stamps every traced index at or below <paramref name="index"/> not stamped yet (an ack or a commit covers a range).</summary>
    public static void StampUpTo(ulong index, PutStage stage)
    {
        for (var i = index; i > 0 && index - i < MaxWalk; i--)
        {
            if (At(i) is { } span && !span.Stamp(stage))
            {
                break; // stamped already, and so were the ones before it
            }
        }
    }

    /// <summary>A peer connection decoded <paramref name="message"/>: a follower's append carrying entries, or an ack on the leader.</summary>
    public static void Received(Message message)
    {
        switch (message.Type)
        {
            case MessageType.Append when !message.Entries.IsEmpty:
                foreach (var entry in message.Entries)
                {
                    ref var slot = ref Ring[(int)(entry.Index & Mask)];
                    if (Volatile.Read(ref slot) is not { } existing || existing.Index != entry.Index)
                    {
                        var span = new PutSpan { Index = entry.Index, Follower = true };
                        span.Stamp(PutStage.AppendReceived);
                        Volatile.Write(ref slot, span);
                    }
                }

                break;
            case MessageType.AppendResponse when !message.Reject:
                StampUpTo(message.Index, PutStage.AckReceived);
                break;
        }
    }

    /// <summary>The loop stepped <paramref name="message"/> into the core.</summary>
    public static void Stepped(Message message)
    {
        switch (message.Type)
        {
            case MessageType.Append when !message.Entries.IsEmpty:
                StampEntries(message.Entries, PutStage.AppendStepped);
                break;
            case MessageType.AppendResponse when !message.Reject:
                StampUpTo(message.Index, PutStage.AckStepped);
                break;
        }
    }

    /// <summary>The loop handed <paramref name="message"/> to the transport after its Ready's sync (a follower's ack).</summary>
    public static void AckHanded(Message message)
    {
        if (message.Type == MessageType.AppendResponse && !message.Reject)
        {
            StampUpTo(message.Index, PutStage.AckHanded);
        }
    }

    /// <summary>A peer sender flushed a batch holding appends up to <paramref name="lastAppended"/> and an ack up to <paramref name="acked"/>.</summary>
    public static void Flushed(ulong lastAppended, ulong acked)
    {
        if (lastAppended > 0)
        {
            StampUpTo(lastAppended, PutStage.AppendsOnSocket);
        }

        if (acked > 0)
        {
            StampUpTo(acked, PutStage.AckOnSocket);
        }
    }

    /// <summary>Forgets every span and takes new baselines for the process counters.</summary>
    public static void Reset()
    {
        if (Enabled)
        {
            Array.Clear(Ring);
        }

        ByRequest.Clear();
        baseline = PutStageBaseline.Now();
    }

    /// <summary>The spans since the last <see cref="Reset"/>, and the process counters since then.</summary>
    public static PutStageReport Report()
    {
        var spans = new List<PutSpan>();
        if (Enabled)
        {
            foreach (var span in Ring)
            {
                if (span is not null)
                {
                    spans.Add(span);
                }
            }
        }

        return new PutStageReport(Enabled, spans, baseline, PutStageBaseline.Now());
    }

    private static PutSpan? At(ulong index) =>
        Volatile.Read(ref Ring[(int)(index & Mask)]) is { } span && span.Index == index ? span : null;
}

/// <summary>One traced put (or, on a follower, one replicated entry): a timestamp and a thread per stage.</summary>
public sealed class PutSpan
{
    private static readonly int StageCount = Enum.GetValues<PutStage>().Length;

    private readonly long[] at = new long[StageCount];
    private readonly string?[] thread = new string?[StageCount];
    private readonly int[] threadId = new int[StageCount];

    public ulong Index { get; set; }

    public bool Follower { get; init; }

    public bool Failed { get; set; }

    public long At(PutStage stage) => Volatile.Read(ref at[(int)stage]);

    /// <summary>"pool" for a thread-pool thread, else the thread's name.</summary>
    public string? Thread(PutStage stage) => thread[(int)stage];

    public int ThreadId(PutStage stage) => threadId[(int)stage];

    /// <summary>Stamps <paramref name="stage"/> now unless it was stamped before (the first peer's flush or ack wins).</summary>
    public bool Stamp(PutStage stage) => StampAt(stage, Stopwatch.GetTimestamp());

    public bool StampAt(PutStage stage, long timestamp)
    {
        if (Interlocked.CompareExchange(ref at[(int)stage], timestamp, 0) != 0)
        {
            return false;
        }

        var current = System.Threading.Thread.CurrentThread;
        threadId[(int)stage] = current.ManagedThreadId;
        thread[(int)stage] = current.IsThreadPoolThread ? "pool" : current.Name ?? $"thread {current.ManagedThreadId}";
        return true;
    }
}
