using System.Collections.Concurrent;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Kv.Watch;
using Bulwark.Server.Hosting;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Server.Api.Watches;

/// <summary>
/// One Watch stream: creates and cancels watchers as the client asks (ids scoped to the stream, automatic ones from 0
/// as in etcd), and one writer sends everything: control responses (created, canceled, progress) first, then the
/// watchers' deliveries from the stream's one bounded <see cref="WatchQueue"/>, as etcd's watch stream does. No task
/// per watcher; responses are buffered and flushed when nothing more is waiting. A client that stops reading holds
/// up only its own stream: the queue fills, and the hub lets its watchers fall back to catching up from history.
/// </summary>
internal sealed class WatchSession(NodeHost node, TimeSpan progressInterval, Auth.CallerCredentials caller)
{
    internal const string CompactedReason = "etcdserver: mvcc: required revision has been compacted";
    internal const string EmptyRangeReason = "mvcc: watcher range is empty";
    /// <summary>etcd 3.4 refuses a watch the caller may not read with its gRPC error's text as the cancel reason.</summary>
    internal const string PermissionDeniedReason = "rpc error: code = PermissionDenied desc = etcdserver: permission denied";
    internal const string DuplicateIdReason = "mvcc: duplicate watch ID provided on the WatchStream";

    /// <summary>Events a stream's queue holds (etcd's stream channel holds 128 responses; one revision may hold many events).</summary>
    private const int QueueEvents = 4096;

    private const long QueueBytes = 4L << 20;

    /// <summary>How often a requested progress notification is retried while watchers still have events to receive.</summary>
    private static readonly TimeSpan ProgressPoll = TimeSpan.FromMilliseconds(100);

    private static readonly ByteString SmallestKey = ByteString.CopyFrom(0);

    private static readonly WriteOptions Buffered = new(WriteFlags.BufferHint);

    private readonly WatchHub hub = node.Watches;
    private readonly WatchQueue queue = new(QueueEvents, QueueBytes);
    private readonly ConcurrentQueue<WatchResponse> control = new();

    // Guards the id maps and the progress request. The writer takes it to pick its next response, and a create
    // registers and queues its created response under it, so a watcher's first event never overtakes that response.
    private readonly Lock gate = new();
    private readonly Dictionary<long, StreamWatcher> byId = [];
    private readonly Dictionary<long, StreamWatcher> byHubId = [];
    private long nextId;
    private bool progressRequested;
    private ResponseHeader? header;

    public async Task RunAsync(IAsyncStreamReader<WatchRequest> requests, IServerStreamWriter<WatchResponse> responses, CancellationToken callEnded)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(callEnded);
        var sender = SendAsync(responses, stop);
        var progress = ProgressAsync(stop.Token);
        try
        {
            while (await requests.MoveNext(stop.Token).ConfigureAwait(false))
            {
                Handle(requests.Current);
            }

            // The client closed its side; etcd keeps sending until the call ends, and so do we.
            await Task.WhenAny(sender, Task.Delay(Timeout.Infinite, stop.Token)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException || stop.IsCancellationRequested)
        {
            // The call ended (client gone, server stopping): nothing to answer.
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            CancelAll();
            queue.Close();
            await Quietly(sender).ConfigureAwait(false);
            await Quietly(progress).ConfigureAwait(false);
        }
    }

    private void Handle(WatchRequest request)
    {
        switch (request.RequestUnionCase)
        {
            case WatchRequest.RequestUnionOneofCase.CreateRequest:
                Create(request.CreateRequest);
                break;
            case WatchRequest.RequestUnionOneofCase.CancelRequest:
                Cancel(request.CancelRequest.WatchId);
                break;
            case WatchRequest.RequestUnionOneofCase.ProgressRequest:
                lock (gate)
                {
                    progressRequested = true;
                }

                queue.Nudge();
                break;
        }
    }

    private void Create(WatchCreateRequest create)
    {
        var key = create.Key.IsEmpty ? SmallestKey : create.Key;
        var rangeEnd = create.RangeEnd;
        bool interval = !rangeEnd.IsEmpty && !(rangeEnd.Length == 1 && rangeEnd[0] == 0);
        if (interval && key.Span.SequenceCompareTo(rangeEnd.Span) >= 0)
        {
            Control(Refused(EmptyRangeReason));
            return;
        }

        if (!IsPermitted(key, rangeEnd))
        {
            Control(Refused(PermissionDeniedReason));
            return;
        }

        var options = new WatchOptions(
            key,
            rangeEnd,
            create.StartRevision < 0 ? 1 : create.StartRevision,
            create.PrevKv,
            NoPut: create.Filters.Contains(WatchCreateRequest.Types.FilterType.Noput),
            NoDelete: create.Filters.Contains(WatchCreateRequest.Types.FilterType.Nodelete));
        lock (gate)
        {
            long id = create.WatchId;
            if (id != 0 && byId.ContainsKey(id))
            {
                Control(Refused(DuplicateIdReason));
                return;
            }

            if (id == 0)
            {
                while (byId.ContainsKey(nextId))
                {
                    nextId++;
                }

                id = nextId++;
            }

            var (registered, revision) = hub.Register(options, queue);
            var watcher = new StreamWatcher(id, registered, create.ProgressNotify, create.Fragment);
            byId[id] = watcher;
            byHubId[registered.Id] = watcher;
            Control(new WatchResponse { Header = Header(revision), WatchId = id, Created = true });
        }
    }

    private void Cancel(long id)
    {
        StreamWatcher? watcher;
        lock (gate)
        {
            if (!byId.Remove(id, out watcher))
            {
                return; // etcd 3.4 answers nothing for an id it does not know
            }

            byHubId.Remove(watcher.Hub.Id);
            hub.Cancel(watcher.Hub.Id);
            Control(new WatchResponse { Header = Header(0), WatchId = id, Canceled = true });
        }
    }

    private void CancelAll()
    {
        lock (gate)
        {
            foreach (var watcher in byId.Values)
            {
                hub.Cancel(watcher.Hub.Id);
            }

            byId.Clear();
            byHubId.Clear();
        }
    }

    private void Control(WatchResponse response)
    {
        control.Enqueue(response);
        queue.Nudge();
    }

    /// <summary>The one writer: control responses first, then deliveries, flushing when nothing more waits.</summary>
    private async Task SendAsync(IServerStreamWriter<WatchResponse> responses, CancellationTokenSource stop)
    {
        try
        {
            while (true)
            {
                while (Next() is { } batch)
                {
                    for (int i = 0; i < batch.Count; i++)
                    {
                        bool more = i < batch.Count - 1 || !control.IsEmpty || queue.Count > 0;
                        responses.WriteOptions = more ? Buffered : null;
                        await responses.WriteAsync(batch[i], stop.Token).ConfigureAwait(false);
                    }
                }

                if (!await queue.WaitToReadAsync(stop.Token).ConfigureAwait(false) && control.IsEmpty)
                {
                    return;
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false); // a failed write ends the whole stream
        }
    }

    /// <summary>The next responses to write, or null when nothing waits (a requested progress notification included).</summary>
    private List<WatchResponse>? Next()
    {
        lock (gate)
        {
            if (control.TryDequeue(out var response))
            {
                return [response];
            }

            while (queue.TryRead(out var hubWatcher, out var delivery))
            {
                if (!byHubId.TryGetValue(hubWatcher.Id, out var watcher))
                {
                    continue; // canceled meanwhile
                }

                if (delivery.IsCompacted)
                {
                    byId.Remove(watcher.Id);
                    byHubId.Remove(hubWatcher.Id);
                    return
                    [
                        new WatchResponse
                        {
                            Header = Header(delivery.Revision),
                            WatchId = watcher.Id,
                            CompactRevision = delivery.CompactRevision,
                            Canceled = true,
                            CancelReason = CompactedReason,
                        },
                    ];
                }

                watcher.SentEvents = true;
                return Responses(watcher, delivery);
            }

            // Nothing queued: everything taken was written before this point, so a requested progress notification
            // may go out now if every watcher has been handed all up to the hub's published revision.
            if (progressRequested && hub.ProgressRevision(byId.Values.Select(w => w.Hub)) is { } revision)
            {
                progressRequested = false;
                return [new WatchResponse { Header = Header(revision), WatchId = -1 }];
            }

            return null;
        }
    }

    /// <summary>One revision's events as responses: one, or with fragment set, pieces no larger than the request limit.</summary>
    private List<WatchResponse> Responses(StreamWatcher watcher, WatchDelivery delivery)
    {
        var response = new WatchResponse { Header = Header(delivery.Revision), WatchId = watcher.Id };
        response.Events.AddRange(delivery.Events);
        int limit = node.Options.Limits.MaxRequestBytes;
        if (!watcher.Fragment || delivery.Events.Count < 2 || response.CalculateSize() <= limit)
        {
            return [response];
        }

        var pieces = new List<WatchResponse>();
        var piece = new WatchResponse { Header = response.Header, WatchId = watcher.Id, Fragment = true };
        int size = piece.CalculateSize();
        foreach (var ev in delivery.Events)
        {
            int eventSize = ev.CalculateSize() + 8;
            if (piece.Events.Count > 0 && size + eventSize > limit)
            {
                pieces.Add(piece);
                piece = new WatchResponse { Header = response.Header, WatchId = watcher.Id, Fragment = true };
                size = piece.CalculateSize();
            }

            piece.Events.Add(ev);
            size += eventSize;
        }

        piece.Fragment = false; // the last piece closes the revision
        pieces.Add(piece);
        return pieces;
    }

    /// <summary>etcd's progress_notify: every interval, a watcher that was sent nothing meanwhile hears the member's revision.</summary>
    private void NotifyProgress()
    {
        lock (gate)
        {
            foreach (var watcher in byId.Values)
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
                    Control(new WatchResponse { Header = Header(revision), WatchId = watcher.Id });
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
            bool requested;
            lock (gate)
            {
                requested = progressRequested;
            }

            if (requested)
            {
                queue.Nudge(); // the writer answers it once the watchers have everything
            }

            if (Environment.TickCount64 >= nextNotify)
            {
                nextNotify = Environment.TickCount64 + (long)progressInterval.TotalMilliseconds;
                NotifyProgress();
            }
        }
    }

    /// <summary>etcd's isWatchPermitted: read access to the watched range; any auth error refuses alike.</summary>
    private bool IsPermitted(Google.Protobuf.ByteString key, Google.Protobuf.ByteString rangeEnd)
    {
        try
        {
            Auth.AuthGate.CheckRead(node, caller, key, rangeEnd);
            return true;
        }
        catch (Bulwark.Kv.Errors.KvException)
        {
            return false;
        }
    }

    private WatchResponse Refused(string reason) =>
        new() { Header = Header(0), WatchId = -1, Created = true, Canceled = true, CancelReason = reason };

    /// <summary>Response headers, shared between responses of the same revision and term (messages are never mutated once sent).</summary>
    private ResponseHeader Header(long revision)
    {
        var cached = header;
        if (revision != 0 && cached is not null && cached.Revision == revision && cached.RaftTerm == node.Status.Term)
        {
            return cached;
        }

        var fresh = ApiContext.Header(node, null, revision);
        header = fresh;
        return fresh;
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
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

        /// <summary>Events were sent since the last progress tick (under the session's gate).</summary>
        public bool SentEvents { get; set; }
    }
}
