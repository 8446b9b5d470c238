using System.Diagnostics;
using Bulwark.Server.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Bulwark.Server.Observability;

/// <summary>Counts and times every unary call for grpc_server_handled_total and grpc_server_handling_seconds.</summary>
public sealed class GrpcMetricsInterceptor(NodeHost node) : Interceptor
{
    private readonly NodeMetrics? metrics = (node.Options.Observer as NodeObservability)?.Metrics;

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        if (metrics is null)
        {
            return await continuation(request, context).ConfigureAwait(false);
        }

        var started = Stopwatch.GetTimestamp();
        var code = StatusCode.OK;
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            code = e.StatusCode;
            throw;
        }
        catch (OperationCanceledException)
        {
            code = StatusCode.Cancelled;
            throw;
        }
        catch (Exception)
        {
            code = StatusCode.Unknown;
            throw;
        }
        finally
        {
            var (service, method) = Split(context.Method);
            metrics.GrpcHandled(service, method, code.ToString(), Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>"/etcdserverpb.KV/Range" -> ("etcdserverpb.KV", "Range").</summary>
    private static (string Service, string Method) Split(string fullMethod)
    {
        var trimmed = fullMethod.TrimStart('/');
        var slash = trimmed.LastIndexOf('/');
        return slash < 0 ? (trimmed, string.Empty) : (trimmed[..slash], trimmed[(slash + 1)..]);
    }
}
