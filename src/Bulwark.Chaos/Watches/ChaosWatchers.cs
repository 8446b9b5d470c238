using Bulwark.Api.Etcdserverpb;
using Bulwark.Chaos.Cluster;
using Bulwark.Chaos.Workload;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Mvccpb = Bulwark.Api.Mvccpb;

namespace Bulwark.Chaos.Watches;

/// <summary>
/// One watcher per member on the whole workload prefix, from the revision after the clear, kept running through the
/// faults as an etcd client would: when its stream fails, or brings nothing for <see cref="StallTimeout"/> while the
/// workload writes (a paused or cut-off member keeps the stream open but silent), it reconnects to the next member and
/// resumes at the revision after the last one it got. What each received is checked by <see cref="WatchCheck"/>.
/// </summary>
public sealed class ChaosWatchers : IDisposable
{
    /// <summary>The clients write hundreds of times a second: this long without an event means the stream is stuck.</summary>
    public static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(2);

    private readonly IReadOnlyList<string> endpoints;
    private readonly List<GrpcChannel> channels;
    private readonly Watcher[] watchers;

    public ChaosWatchers(IReadOnlyList<string> endpoints, long fromRevision)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        this.endpoints = endpoints;
        FromRevision = fromRevision;
        channels = endpoints.Select(ChannelFactory.Create).ToList();
        watchers = Enumerable.Range(0, endpoints.Count).Select(i => new Watcher(i, fromRevision)).ToArray();
    }

    public long FromRevision { get; }

    /// <summary>Runs every watcher until <paramref name="stop"/> is cancelled.</summary>
    public Task RunAsync(CancellationToken stop) =>
        Task.WhenAll(watchers.Select(w => Task.Run(() => WatchAsync(w, stop), CancellationToken.None)));

    /// <summary>True once every watcher got everything up to <paramref name="revision"/>.</summary>
    public bool CaughtUpTo(long revision) => watchers.All(w => w.Next > revision);

    public IReadOnlyList<WatcherLog> Logs() => watchers.Select(w => w.Log()).ToList();

    public void Dispose()
    {
        foreach (var channel in channels)
        {
            channel.Dispose();
        }
    }

    private async Task WatchAsync(Watcher watcher, CancellationToken stop)
    {
        var member = watcher.Id % endpoints.Count;
        var range = WorkloadSettings.KeyPrefix;
        var rangeEnd = range[..^1] + (char)(range[^1] + 1);
        while (!stop.IsCancellationRequested)
        {
            using var stalled = CancellationTokenSource.CreateLinkedTokenSource(stop);
            try
            {
                using var call = new Watch.WatchClient(channels[member]).Watch(cancellationToken: stalled.Token);
                await call.RequestStream.WriteAsync(new WatchRequest
                {
                    CreateRequest = new WatchCreateRequest
                    {
                        Key = ByteString.CopyFromUtf8(range),
                        RangeEnd = ByteString.CopyFromUtf8(rangeEnd),
                        StartRevision = watcher.Next,
                    },
                }, stalled.Token).ConfigureAwait(false);
                watcher.NewStream();
                stalled.CancelAfter(StallTimeout);
                while (await call.ResponseStream.MoveNext(stalled.Token).ConfigureAwait(false))
                {
                    var response = call.ResponseStream.Current;
                    if (response.CompactRevision > 0)
                    {
                        watcher.Compacted(response.CompactRevision);
                        break;
                    }

                    if (response.Canceled)
                    {
                        break;
                    }

                    if (response.Events.Count > 0)
                    {
                        watcher.Received(response.Events);
                        stalled.CancelAfter(StallTimeout);
                    }
                }
            }
            catch (RpcException) when (!stop.IsCancellationRequested)
            {
                // failed or stalled: resume on the next member
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                // stalled
            }
            catch (RpcException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }

            member = (member + 1) % endpoints.Count;
            try
            {
                await Task.Delay(50, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private sealed class Watcher(int id, long from)
    {
        private readonly Lock gate = new();
        private readonly List<List<WatchEvent>> streams = [];
        private readonly List<(long, long)> compacted = [];
        private long next = from;

        public int Id => id;

        /// <summary>The revision a new stream starts at: the one after the last event received.</summary>
        public long Next
        {
            get
            {
                lock (gate)
                {
                    return next;
                }
            }
        }

        public void NewStream()
        {
            lock (gate)
            {
                streams.Add([]);
            }
        }

        public void Received(IEnumerable<Mvccpb.Event> events)
        {
            lock (gate)
            {
                var stream = streams[^1];
                foreach (var e in events)
                {
                    var delete = e.Type == Mvccpb.Event.Types.EventType.Delete;
                    stream.Add(new WatchEvent(e.Kv.ModRevision, e.Kv.Key.ToStringUtf8(), delete, delete ? null : e.Kv.Value.ToStringUtf8()));
                    next = Math.Max(next, e.Kv.ModRevision + 1);
                }
            }
        }

        /// <summary>The member said everything before <paramref name="compactRevision"/> is gone: resume there.</summary>
        public void Compacted(long compactRevision)
        {
            lock (gate)
            {
                if (compactRevision > next)
                {
                    compacted.Add((next, compactRevision - 1));
                    next = compactRevision;
                }
            }
        }

        public WatcherLog Log()
        {
            lock (gate)
            {
                return new WatcherLog(id, streams.Select(s => (IReadOnlyList<WatchEvent>)[.. s]).ToList(), [.. compacted], next - 1);
            }
        }
    }
}
