using System.Threading.Channels;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Kv.Watch;
using Bulwark.Server.Hosting;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Server.Api.Watches;

/// <summary>
/// One Watch stream: creates and cancels watchers as the client asks (ids scoped to the stream, automatic ones from 0
/// as in etcd), forwards each watcher's deliveries, and answers progress requests. Responses go through one bounded
/// channel to the single writer, so a client that stops reading holds up only its own stream: the pumps wait, the
/// watchers' queues fill, and the hub lets those watchers fall back to catching up from history, holding no memory.
/// </summary>
internal sealed class WatchSession(NodeHost node, TimeSpan progressInterval)
{
    internal const string CompactedReason = "etcdserver: mvcc: required revision has been compacted";
    internal const string EmptyRangeReason = "mvcc: watcher range is empty";
    internal const string DuplicateIdReason = "mvcc: duplicate watch ID provided on the WatchStream";

    /// <summary>Responses waiting for the writer (etcd's per-stream channel holds 128).</summary>
    private const int OutputCapacity = 128;

    /// <summary>How often a requested progress notification is retried while watchers still have events to receive.</summary>
    private static readonly TimeSpan ProgressPoll = TimeSpan.FromMilliseconds(100);

    private static readonly ByteString SmallestKey = ByteString.CopyFrom(0);

    private readonly WatchHub hub = node.Watches;
    private readonly Channel<WatchResponse> output = Channel.CreateBounded<WatchResponse>(
        new BoundedChannelOptions(OutputCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    // Guards the id map, the count of deliveries taken from queues but not yet in the output, and the progress request:
    // a progress notification is written under it, so nothing taken earlier can be written after it.
    private readonly Lock gate = new();
    private readonly Dictionary<long, StreamWatcher> watchers = [];
    private readonly List<Task> pumps = [];
    private long nextId;
    private int inFlight;
    private bool progressRequested;

    public async Task RunAsync(IAsyncStreamReader<WatchRequest> requests, IServerStreamWriter<WatchResponse> responses, CancellationToken callEnded)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(callEnded);
        var sender = SendAsync(responses, stop);
        var progress = ProgressAsync(stop.Token);
        try
        {
            while (await requests.MoveNext(stop.Token).ConfigureAwait(false))
            {
                await HandleAsync(requests.Current, stop.Token).ConfigureAwait(false);
            }

            // The client closed its side; etcd keeps sending until the call ends, and so do we.
            await Task.WhenAny(sender, Task.Delay(Timeout.Infinite, stop.Token)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ChannelClosedException || stop.IsCancellationRequested)
        {
            // The call ended (client gone, server stopping): nothing to answer.
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            CancelAll();
            output.Writer.TryComplete();
            await Quietly(sender).ConfigureAwait(false);
            await Quietly(progress).ConfigureAwait(false);
            foreach (var pump in pumps)
            {
                await Quietly(pump).ConfigureAwait(false);
            }
        }
    }

    private async Task SendAsync(IServerStreamWriter<WatchResponse> responses, CancellationTokenSource stop)
    {
        try
        {
            await foreach (var response in output.Reader.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                await responses.WriteAsync(response, stop.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false); // a failed write ends the whole stream
        }
    }

    private async Task HandleAsync(WatchRequest request, CancellationToken stop)
    {
        switch (request.RequestUnionCase)
        {
            case WatchRequest.RequestUnionOneofCase.CreateRequest:
                await CreateAsync(request.CreateRequest, stop).ConfigureAwait(false);
                break;
            case WatchRequest.RequestUnionOneofCase.CancelRequest:
                Cancel(request.CancelRequest.WatchId);
                break;
            case WatchRequest.RequestUnionOneofCase.ProgressRequest:
                lock (gate)
                {
                    progressRequested = true;
                }

                TrySendRequestedProgress();
                break;
        }
    }

    private async Task CreateAsync(WatchCreateRequest create, CancellationToken stop)
    {
        var key = create.Key.IsEmpty ? SmallestKey : create.Key;
        var rangeEnd = create.RangeEnd;
        bool interval = !rangeEnd.IsEmpty && !(rangeEnd.Length == 1 && rangeEnd[0] == 0);
        if (interval && key.Span.SequenceCompareTo(rangeEnd.Span) >= 0)
        {
            await output.Writer.WriteAsync(Refused(EmptyRangeReason), stop).ConfigureAwait(false);
            return;
        }

        var options = new WatchOptions(
            key,
            rangeEnd,
            create.StartRevision < 0 ? 1 : create.StartRevision,
            create.PrevKv,
            NoPut: create.Filters.Contains(WatchCreateRequest.Types.FilterType.Noput),
            NoDelete: create.Filters.Contains(WatchCreateRequest.Types.FilterType.Nodelete));
        StreamWatcher watcher;
        long revision;
        lock (gate)
        {
            long id;
            if (create.WatchId != 0)
            {
                if (watchers.ContainsKey(create.WatchId))
                {
                    id = -1;
                }
                else
                {
                    id = create.WatchId;
                }
            }
            else
            {
                while (watchers.ContainsKey(nextId))
                {
                    nextId++;
                }

                id = nextId++;
            }

            if (id == -1)
            {
                watcher = null!;
                revision = 0;
            }
            else
            {
                var (registered, at) = hub.Register(options);
                watcher = new StreamWatcher(id, registered, create.ProgressNotify, create.Fragment);
                watchers[id] = watcher;
                revision = at;
            }
        }

        if (watcher is null)
        {
            await output.Writer.WriteAsync(Refused(DuplicateIdReason), stop).ConfigureAwait(false);
            return;
        }

        // The created response goes out before the pump starts, so it precedes the watcher's first events.
        await output.Writer.WriteAsync(new WatchResponse { Header = Header(revision), WatchId = watcher.Id, Created = true }, stop).ConfigureAwait(false);
        pumps.Add(PumpAsync(watcher, stop));
    }

    private void Cancel(long id)
    {
        StreamWatcher? watcher;
        lock (gate)
        {
            watchers.Remove(id, out watcher);
        }

        if (watcher is null)
        {
            return; // etcd 3.4 answers nothing for an id it does not know
        }

        watcher.Canceled = true;
        hub.Cancel(watcher.Hub.Id);
    }

    private void CancelAll()
    {
        lock (gate)
        {
            foreach (var watcher in watchers.Values)
            {
                watcher.Canceled = true;
                hub.Cancel(watcher.Hub.Id);
            }

            watchers.Clear();
        }
    }

    private async Task PumpAsync(StreamWatcher watcher, CancellationToken stop)
    {
        try
        {
            while (await watcher.Hub.WaitToReadAsync(stop).ConfigureAwait(false))
            {
                WatchDelivery delivery;
                lock (gate)
                {
                    if (!watcher.Hub.TryRead(out delivery))
                    {
                        continue;
                    }

                    inFlight++;
                }

                try
                {
                    if (watcher.Canceled)
                    {
                        continue;
                    }

                    if (delivery.IsCompacted)
                    {
                        lock (gate)
                        {
                            watchers.Remove(watcher.Id);
                        }

                        await output.Writer.WriteAsync(new WatchResponse
                        {
                            Header = Header(delivery.Revision),
                            WatchId = watcher.Id,
                            CompactRevision = delivery.CompactRevision,
                            Canceled = true,
                            CancelReason = CompactedReason,
                        }, stop).ConfigureAwait(false);
                        return;
                    }

                    foreach (var response in Responses(watcher, delivery))
                    {
                        await output.Writer.WriteAsync(response, stop).ConfigureAwait(false);
                    }

                    watcher.SentEvents = true;
                }
                finally
                {
                    lock (gate)
                    {
                        inFlight--;
                    }
                }

                TrySendRequestedProgress();
            }

            if (watcher.Canceled && !stop.IsCancellationRequested)
            {
                await output.Writer.WriteAsync(new WatchResponse { Header = Header(0), WatchId = watcher.Id, Canceled = true }, stop).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            // The stream ended.
        }
    }

    /// <summary>One revision's events as responses: one, or with fragment set, pieces no larger than the request limit.</summary>
    private IEnumerable<WatchResponse> Responses(StreamWatcher watcher, WatchDelivery delivery)
    {
        int limit = node.Options.Limits.MaxRequestBytes;
        var response = new WatchResponse { Header = Header(delivery.Revision), WatchId = watcher.Id };
        response.Events.AddRange(delivery.Events);
        if (!watcher.Fragment || delivery.Events.Count < 2 || response.CalculateSize() <= limit)
        {
            yield return response;
            yield break;
        }

        var piece = new WatchResponse { Header = response.Header, WatchId = watcher.Id, Fragment = true };
        int size = piece.CalculateSize();
        foreach (var ev in delivery.Events)
        {
            int eventSize = ev.CalculateSize() + 8;
            if (piece.Events.Count > 0 && size + eventSize > limit)
            {
                yield return piece;
                piece = new WatchResponse { Header = response.Header, WatchId = watcher.Id, Fragment = true };
                size = piece.CalculateSize();
            }

            piece.Events.Add(ev);
            size += eventSize;
        }

        piece.Fragment = false; // the last piece closes the revision
        yield return piece;
    }

    /// <summary>Answers a WatchProgressRequest once every watcher of the stream has everything up to the reported revision.</summary>
    private void TrySendRequestedProgress()
    {
        lock (gate)
        {
            if (!progressRequested || inFlight > 0)
            {
                return;
            }

            if (hub.ProgressRevision(watchers.Values.Select(w => w.Hub)) is not { } revision)
            {
                return;
            }

            // Not associated with one watcher: etcd sends it with watch id -1 and clients hand it to all of them.
            progressRequested = !output.Writer.TryWrite(new WatchResponse { Header = Header(revision), WatchId = -1 });
        }
    }

    /// <summary>etcd's progress_notify: every interval, a watcher that was sent nothing meanwhile hears the member's revision.</summary>
    private void NotifyProgress()
    {
        lock (gate)
        {
            if (inFlight > 0)
            {
                return;
            }

            foreach (var watcher in watchers.Values)
            {
                if (!watcher.ProgressNotify)
                {
                    continue;
                }

                if (watcher.SentEvents)
                {
                    watcher.SentEvents = false;
                    continue;
                }

                if (hub.ProgressRevision([watcher.Hub]) is { } revision)
                {
                    output.Writer.TryWrite(new WatchResponse { Header = Header(revision), WatchId = watcher.Id });
                }
            }
        }
    }

    private async Task ProgressAsync(CancellationToken stop)
    {
        var poll = progressInterval < ProgressPoll ? progressInterval : ProgressPoll;
        long nextNotify = Environment.TickCount64 + (long)progressInterval.TotalMilliseconds;
        using var timer = new PeriodicTimer(poll);
        while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
        {
            TrySendRequestedProgress();
            if (Environment.TickCount64 >= nextNotify)
            {
                nextNotify = Environment.TickCount64 + (long)progressInterval.TotalMilliseconds;
                NotifyProgress();
            }
        }
    }

    private WatchResponse Refused(string reason) =>
        new() { Header = Header(0), WatchId = -1, Created = true, Canceled = true, CancelReason = reason };

    private ResponseHeader Header(long revision) => ApiContext.Header(node, null, revision);

    private static async Task Quietly(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ChannelClosedException or InvalidOperationException)
        {
            // Ending the stream: the call is over either way.
        }
    }

    private sealed class StreamWatcher(long id, Watcher hubWatcher, bool progressNotify, bool fragment)
    {
        public long Id { get; } = id;

        public Watcher Hub { get; } = hubWatcher;

        public bool ProgressNotify { get; } = progressNotify;

        public bool Fragment { get; } = fragment;

        public volatile bool Canceled;

        /// <summary>Events were sent since the last progress tick (guarded by the session's gate for the tick's reset).</summary>
        public volatile bool SentEvents;
    }
}
