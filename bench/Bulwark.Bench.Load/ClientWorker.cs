using System.Diagnostics;
using Bulwark.Api.Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using HdrHistogram;

namespace Bulwark.Bench.Load;

/// <summary>
/// One client: a sequence of calls with at most one in flight. In open loop the i-th call is due at a fixed time, and
/// its latency counts from that time, so a stall that delays later calls shows up in their latencies (no coordinated
/// omission).
/// </summary>
internal sealed class ClientWorker(int id, KV.KVClient kv, LoadOptions options, KeySpace keys, ByteString value, PhaseCounters counters)
{
    /// <summary>Largest latency the histogram keeps exactly (1 hour, in microseconds); larger ones are clamped.</summary>
    public const long MaxMicros = 3_600_000_000;

    private readonly Random random = new(unchecked((options.Seed * 7919) + id));
    private readonly Random pick = new(unchecked((options.Seed * 104729) + id));

    public LongHistogram Histogram { get; } = new(1, MaxMicros, 3);

    /// <summary>Runs calls from <paramref name="start"/> until <paramref name="end"/> (Stopwatch timestamps) or the op budget runs out.</summary>
    public async Task RunAsync(long start, long end, CancellationToken cancel)
    {
        var open = options.Rate is { } rate;
        // Each client takes an equal share of the rate; clients are staggered so their sends interleave evenly.
        var period = open ? Stopwatch.Frequency * options.Clients / options.Rate!.Value : 0;
        var offset = open ? period * id / options.Clients : 0;
        for (long n = 0; !cancel.IsCancellationRequested; n++)
        {
            long intended;
            if (open)
            {
                intended = start + (long)(offset + (n * period));
                if (intended >= end)
                {
                    return;
                }

                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), intended);
                if (wait >= TimeSpan.FromMilliseconds(1))
                {
                    await Task.Delay(wait, cancel).ConfigureAwait(false);
                }
            }
            else
            {
                intended = Stopwatch.GetTimestamp();
                if (intended >= end)
                {
                    return;
                }
            }

            if (!counters.TakeOne())
            {
                return;
            }

            try
            {
                await CallOnceAsync().ConfigureAwait(false);
                var micros = (long)Stopwatch.GetElapsedTime(intended).TotalMicroseconds;
                Histogram.RecordValue(Math.Clamp(micros, 1, MaxMicros));
                counters.Succeeded();
            }
            catch (RpcException e)
            {
                counters.Failed(e.StatusCode.ToString());
                await BackOffAsync(e.StatusCode, cancel).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or InvalidOperationException)
            {
                counters.Failed(e.GetType().Name);
                await BackOffAsync(StatusCode.Unavailable, cancel).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Writes every key this client owns (index % clients == id) once.</summary>
    public async Task PreloadAsync(CancellationToken cancel)
    {
        for (var i = id; i < keys.Count && !cancel.IsCancellationRequested; i += options.Clients)
        {
            await kv.PutAsync(new PutRequest { Key = keys[i], Value = value }, deadline: Deadline(), cancellationToken: cancel).ConfigureAwait(false);
        }
    }

    private Task CallOnceAsync()
    {
        var key = keys[random.Next(keys.Count)];
        var read = options.Workload switch
        {
            Workload.Get => true,
            Workload.Put => false,
            _ => pick.Next(100) < options.ReadPercent,
        };
        if (read)
        {
            var request = new RangeRequest { Key = key, Serializable = options.Consistency == ReadConsistency.Serializable };
            return kv.RangeAsync(request, deadline: Deadline()).ResponseAsync;
        }

        return kv.PutAsync(new PutRequest { Key = key, Value = value }, deadline: Deadline()).ResponseAsync;
    }

    private DateTime Deadline() => DateTime.UtcNow + options.CallTimeout;

    private static Task BackOffAsync(StatusCode code, CancellationToken cancel) =>
        // A down endpoint fails instantly; pausing keeps a failing run from spinning the CPU the cluster needs.
        code is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown
            ? Task.Delay(10, cancel).ContinueWith(_ => { }, TaskScheduler.Default)
            : Task.CompletedTask;
}
