using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Bulwark.Api.Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.TestSupport;

/// <summary>
/// Clients that keep a member busy (put, linearizable get, compare-and-set Txn on a few keys, one call at a time each)
/// and record when every call succeeded or failed on one clock, so a caller can ask for the longest window in which no
/// client saw a success (what users of the member feel during a fault) and which errors came back. Works against any
/// etcd v3 server, so the rejoin test and the Bulwark-vs-etcd benchmark measure the same thing the same way. Linked
/// into Bulwark.EndToEnd.Tests and Bulwark.Bench.Compare.
/// </summary>
public sealed class AvailabilityRecorder
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);
    private readonly ConcurrentQueue<TimeSpan> successes = new();
    private readonly ConcurrentQueue<ClientFailure> failures = new();
    private readonly ConcurrentQueue<RecordedCall> calls = new();
    private readonly Stopwatch clock;

    /// <param name="clock">The shared clock every recorded moment is read from (the caller marks its events on it too).</param>
    public AvailabilityRecorder(Stopwatch clock) => this.clock = clock;

    /// <summary>Successful calls so far.</summary>
    public int Successes => successes.Count;

    public IReadOnlyList<ClientFailure> Failures => failures.ToArray();

    /// <summary>
    /// Runs one client until <paramref name="stop"/>: on key <paramref name="key"/> of member <paramref name="kv"/> a
    /// put, a linearizable get, and a Txn that replaces the value it read (a CAS), over and over. A failed call is
    /// recorded and the client goes on after a short pause (as a real client retries).
    /// </summary>
    public async Task RunClientAsync(KV.KVClient kv, string member, string key, CancellationToken stop)
    {
        var keyBytes = ByteString.CopyFromUtf8(key);
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var started = clock.Elapsed;
            var kind = (n % 3) switch { 0 => "put", 1 => "get", _ => "get+cas" };
            var value = ByteString.CopyFromUtf8(string.Create(CultureInfo.InvariantCulture, $"{key}-{n}"));
            try
            {
                switch (n % 3)
                {
                    case 0:
                        await kv.PutAsync(new PutRequest { Key = keyBytes, Value = value }, deadline: Deadline(), cancellationToken: stop).ConfigureAwait(false);
                        break;
                    case 1:
                        await kv.RangeAsync(new RangeRequest { Key = keyBytes }, deadline: Deadline(), cancellationToken: stop).ConfigureAwait(false);
                        break;
                    default:
                        var current = await kv.RangeAsync(new RangeRequest { Key = keyBytes, Serializable = false }, deadline: Deadline(), cancellationToken: stop).ConfigureAwait(false);
                        var modRevision = current.Kvs.Count == 0 ? 0 : current.Kvs[0].ModRevision;
                        successes.Enqueue(clock.Elapsed);
                        await kv.TxnAsync(new TxnRequest
                        {
                            Compare = { new Compare { Key = keyBytes, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = modRevision } },
                            Success = { new RequestOp { RequestPut = new PutRequest { Key = keyBytes, Value = value } } },
                        }, deadline: Deadline(), cancellationToken: stop).ConfigureAwait(false);
                        break;
                }

                successes.Enqueue(clock.Elapsed);
                calls.Enqueue(new RecordedCall(started, clock.Elapsed, member, kind, "ok"));
            }
            catch (RpcException e) when (stop.IsCancellationRequested && e.StatusCode == StatusCode.Cancelled)
            {
                return;
            }
            catch (RpcException e)
            {
                calls.Enqueue(new RecordedCall(started, clock.Elapsed, member, kind, e.StatusCode.ToString()));
                failures.Enqueue(new ClientFailure(clock.Elapsed, member, e.StatusCode, e.Status.Detail));
                try
                {
                    await Task.Delay(20, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// The longest stretch within [<paramref name="from"/>, <paramref name="to"/>] with no successful call by any client
    /// (the edges count: a window that starts before <paramref name="from"/> is cut there), and where it started.
    /// </summary>
    public (TimeSpan Length, TimeSpan Start) LongestWindow(TimeSpan from, TimeSpan to)
    {
        var inRange = successes.Where(t => t >= from && t <= to).Order().ToList();
        var longest = (Length: TimeSpan.Zero, Start: from);
        var previous = from;
        foreach (var t in inRange.Append(to))
        {
            if (t - previous > longest.Length)
            {
                longest = (t - previous, previous);
            }

            previous = t;
        }

        return longest;
    }

    /// <summary>
    /// The calls that were under way at <paramref name="at"/> (started before, ended after), earliest first: what the
    /// clients were waiting for when a window began (which member, which kind of call, how it ended).
    /// </summary>
    public IReadOnlyList<RecordedCall> InFlightAt(TimeSpan at) =>
        calls.Where(c => c.Started <= at && c.Ended > at).OrderBy(c => c.Started).ToList();

    /// <summary>
    /// From now on, a linearizable get of <paramref name="key"/> on <paramref name="kv"/> every few ms until one succeeds;
    /// returns the moment it did and the value it saw.
    /// </summary>
    public async Task<(TimeSpan At, string? Value)> FirstLinearizableReadAsync(KV.KVClient kv, string key, TimeSpan patience)
    {
        var deadline = clock.Elapsed + patience;
        Exception? last = null;
        while (clock.Elapsed < deadline)
        {
            try
            {
                var range = await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) },
                    deadline: DateTime.UtcNow.AddSeconds(2)).ConfigureAwait(false);
                return (clock.Elapsed, range.Kvs.Count == 0 ? null : range.Kvs[0].Value.ToStringUtf8());
            }
            catch (RpcException e)
            {
                // Not listening yet, or not caught up: the member is still coming back.
                last = e;
            }

            await Task.Delay(10).ConfigureAwait(false);
        }

        throw new TimeoutException($"no linearizable read succeeded within {patience.TotalSeconds:0} s (last error: {last?.Message})");
    }

    private static DateTime Deadline() => DateTime.UtcNow + CallTimeout;
}

/// <summary>One finished client call: when it started and ended on the recorder's clock, where, what, and how it ended.</summary>
public sealed record RecordedCall(TimeSpan Started, TimeSpan Ended, string Member, string Kind, string Outcome);

/// <summary>One failed client call: when, on which member, and etcd's status code and message.</summary>
public sealed record ClientFailure(TimeSpan At, string Member, StatusCode Code, string Detail)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{At.TotalSeconds:0.000}s {Member} {Code}: {Detail}");
}
