using System.Runtime.ExceptionServices;
using Bulwark.Client.Endpoints;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace Bulwark.Client.Calls;

/// <summary>
/// Runs one unary call: on the route's first endpoint with a deadline, and after a transient failure on the next one,
/// but only as far as the call's <see cref="CallRetry"/> allows (a write that may have reached a member is never sent
/// again). Up to <see cref="BulwarkClientOptions.MaxAttempts"/> sweeps over the endpoints, with a short growing pause
/// between sweeps (an election takes about one election timeout).
/// </summary>
internal sealed class CallRunner(EndpointSet endpoints, BulwarkClientOptions options, TimeProvider time, ILogger logger)
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(1);

    public EndpointSet Endpoints => endpoints;

    public async Task<T> RunAsync<T>(
        string method,
        CallRoute route,
        CallRetry retry,
        Func<GrpcChannel, CallOptions, Task<T>> call,
        CancellationToken ct)
    {
        RpcException? last = null;
        Endpoint? failed = null;
        var attempt = 0;
        var pause = FirstPause;
        for (var sweep = 0; sweep < options.MaxAttempts; sweep++)
        {
            foreach (var endpoint in endpoints.Order(route))
            {
                ct.ThrowIfCancellationRequested();
                attempt++;
                if (failed is not null)
                {
                    ClientMetrics.Instance.Retry(method);
                    ClientLog.Retrying(logger, method, attempt, last!.StatusCode.ToString(), failed.ToString());
                    if (failed != endpoint)
                    {
                        ClientMetrics.Instance.Failover("call");
                        ClientLog.FailingOver(logger, method, failed.ToString(), last.StatusCode.ToString(), last.Status.Detail, endpoint.ToString());
                    }
                }

                ClientMetrics.Instance.Call(method);
                try
                {
                    var result = await call(endpoint.Channel, new CallOptions(deadline: DateTime.UtcNow + options.RequestTimeout, cancellationToken: ct)).ConfigureAwait(false);
                    endpoints.Succeeded(endpoint);
                    return result;
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested)
                {
                    throw new OperationCanceledException($"{method} was cancelled", e, ct);
                }
                catch (RpcException e) when (!ct.IsCancellationRequested && CallFailures.IsTransient(e))
                {
                    endpoints.Failed(endpoint);
                    last = e;
                    failed = endpoint;
                    if (retry == CallRetry.WhenNotApplied && !CallFailures.ProvesNotApplied(e))
                    {
                        ClientLog.NotRetried(logger, method, endpoint.ToString(), e.StatusCode.ToString(), e.Status.Detail);
                        throw;
                    }
                }
            }

            if (sweep + 1 < options.MaxAttempts)
            {
                await Task.Delay(pause, time, ct).ConfigureAwait(false);
                pause = pause * 2 > MaxPause ? MaxPause : pause * 2;
            }
        }

        ExceptionDispatchInfo.Throw(last!);
        throw last!;
    }
}
