using System.Runtime.CompilerServices;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Client.Calls;
using Bulwark.Client.Endpoints;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Client;

public sealed partial class BulwarkClient
{
    // etcd cancels a watch on a member that has lost its leader when the stream carries this (clientv3.WithRequireLeader):
    // such a member's watch would otherwise just go silent.
    private static readonly Metadata RequireLeader = new() { { "hasleader", "true" } };

    /// <summary>
    /// Watches <paramref name="key"/> (or a prefix or range, see <see cref="WatchOptions"/>) on one gRPC Watch stream.
    /// When the stream fails the watch moves to another member and resumes from the last delivered revision + 1: no
    /// event is missed and none is delivered twice. Ends only by <paramref name="ct"/> (or an error).
    /// </summary>
    /// <exception cref="ArgumentException">The key is empty or the start revision negative.</exception>
    /// <exception cref="WatchCompactedException">The revision to resume from was compacted.</exception>
    public IAsyncEnumerable<WatchEvent> WatchAsync(string key, WatchOptions? options = null, CancellationToken ct = default)
    {
        RequireKey(key, nameof(key));
        options ??= new WatchOptions();
        if (options.StartRevision < 0)
        {
            throw new ArgumentException($"the start revision must not be negative (was {options.StartRevision})", nameof(options));
        }

        var keyBytes = ByteString.CopyFromUtf8(key);
        var rangeEnd = options.Prefix ? KeyRanges.PrefixEnd(keyBytes)
            : options.RangeEnd is { } end ? ByteString.CopyFromUtf8(end) : ByteString.Empty;
        var create = new WatchCreateRequest { Key = keyBytes, RangeEnd = rangeEnd, PrevKv = options.PrevKv };
        if (options.NoPut)
        {
            create.Filters.Add(WatchCreateRequest.Types.FilterType.Noput);
        }

        if (options.NoDelete)
        {
            create.Filters.Add(WatchCreateRequest.Types.FilterType.Nodelete);
        }

        return WatchCoreAsync(create, options.StartRevision, ct);
    }

    private async IAsyncEnumerable<WatchEvent> WatchCoreAsync(WatchCreateRequest template, long startRevision, [EnumeratorCancellation] CancellationToken ct)
    {
        // The next revision the caller has not seen; 0 until the first stream says where "now" is.
        var next = startRevision;
        var failuresInARow = 0;
        Endpoint? failedOn = null;
        string failure = "";
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var endpoint = PickWatchEndpoint(failedOn);
            if (failedOn is not null)
            {
                ClientMetrics.Instance.Failover("watch");
                ClientLog.WatchResuming(logger, failedOn.ToString(), failure, endpoint.ToString(), next);
            }

            ClientMetrics.Instance.Call("Watch");
            var create = template.Clone();
            create.StartRevision = next;
            using (var call = new Watch.WatchClient(endpoint.Channel).Watch(RequireLeader, cancellationToken: ct))
            {
                var error = await WriteAsync(call, new WatchRequest { CreateRequest = create }, ct).ConfigureAwait(false);
                var created = false;
                while (error is null)
                {
                    (var response, error) = await ReadAsync(call, ct).ConfigureAwait(false);
                    if (response is null)
                    {
                        break;
                    }

                    if (response.Canceled)
                    {
                        if (response.CompactRevision > 0)
                        {
                            throw new WatchCompactedException(next, response.CompactRevision);
                        }

                        if (!created)
                        {
                            // Refused at creation (e.g. a future revision): the same request would be refused again.
                            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"the watch was refused: {response.CancelReason}"));
                        }

                        error = new RpcException(new Status(StatusCode.Unavailable, $"the member canceled the watch: {response.CancelReason}"));
                        break;
                    }

                    if (response.Created)
                    {
                        created = true;
                        failuresInARow = 0;
                        endpoints.Succeeded(endpoint);
                        if (next == 0)
                        {
                            next = response.Header.Revision + 1;
                        }
                    }

                    foreach (var e in response.Events)
                    {
                        // After a resume the member starts at `next`; anything older was already delivered.
                        if (e.Kv.ModRevision < next)
                        {
                            continue;
                        }

                        yield return new WatchEvent(e.Type, e.Kv, e.PrevKv, e.Kv.ModRevision);
                    }

                    if (response.Events.Count > 0)
                    {
                        next = Math.Max(next, response.Events[^1].Kv.ModRevision + 1);
                    }
                    else if (!response.Created && response.Header is { Revision: > 0 } header && header.Revision + 1 > next)
                    {
                        // A progress notification: everything up to the header's revision has been sent.
                        next = header.Revision + 1;
                    }
                }

                error ??= new RpcException(new Status(StatusCode.Unavailable, "the member ended the watch stream"));
                if (error is RpcException rpc && !CallFailures.IsTransient(rpc))
                {
                    // The server's answer (bad request, permission): resuming elsewhere would get the same.
                    throw rpc;
                }

                failure = CallFailures.Describe(error);
            }

            ct.ThrowIfCancellationRequested();
            endpoints.Failed(endpoint);
            failedOn = endpoint;
            failuresInARow++;

            // A watch outlives outages (as etcd's does): it keeps trying, at most every 2 s, until cancelled.
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 100 * failuresInARow)), Time, ct).ConfigureAwait(false);
        }
    }

    /// <summary>The first endpoint in the usual order, other than the one the watch just failed on when there is another.</summary>
    private Endpoint PickWatchEndpoint(Endpoint? failedOn)
    {
        var order = endpoints.Order(CallRoute.Any);
        return order.FirstOrDefault(e => e != failedOn) ?? order[0];
    }

    private static async Task<Exception?> WriteAsync(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call, WatchRequest request, CancellationToken ct)
    {
        try
        {
            await call.RequestStream.WriteAsync(request, ct).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is RpcException or IOException or InvalidOperationException)
        {
            ct.ThrowIfCancellationRequested();
            return e;
        }
    }

    private static async Task<(WatchResponse? Response, Exception? Error)> ReadAsync(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call, CancellationToken ct)
    {
        try
        {
            return await call.ResponseStream.MoveNext(ct).ConfigureAwait(false) ? (call.ResponseStream.Current, null) : (null, null);
        }
        catch (Exception e) when (e is RpcException or IOException or InvalidOperationException)
        {
            ct.ThrowIfCancellationRequested();
            return (null, e);
        }
    }
}
