using System.Diagnostics;
using Bulwark.Server.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Prometheus;

namespace Bulwark.Server.Observability;

/// <summary>
/// go-grpc-prometheus's server metrics for every call, unary and streaming (Watch, LeaseKeepAlive):
/// grpc_server_started_total, grpc_server_handled_total{grpc_code}, grpc_server_msg_received_total,
/// grpc_server_msg_sent_total and grpc_server_handling_seconds, labelled grpc_type/grpc_service/grpc_method.
/// </summary>
public sealed class GrpcMetricsInterceptor(NodeSlot slot) : Interceptor
{
    private readonly NodeMetrics? metrics = (slot.Options.Observer as NodeObservability)?.Metrics;

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        if (metrics is null)
        {
            return await continuation(request, context).ConfigureAwait(false);
        }

        var call = Start(metrics, context.Method, GrpcTypes.Unary);
        call.Received.Inc();
        var code = StatusCode.Unknown;
        try
        {
            var response = await continuation(request, context).ConfigureAwait(false);
            code = StatusCode.OK;
            call.Sent.Inc();
            return response;
        }
        catch (Exception e)
        {
            code = CodeOf(e);
            throw;
        }
        finally
        {
            Finish(metrics, call, code);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        if (metrics is null)
        {
            return await continuation(requestStream, context).ConfigureAwait(false);
        }

        var call = Start(metrics, context.Method, GrpcTypes.ClientStream);
        var code = StatusCode.Unknown;
        try
        {
            var response = await continuation(new CountingReader<TRequest>(requestStream, call.Received), context).ConfigureAwait(false);
            code = StatusCode.OK;
            call.Sent.Inc();
            return response;
        }
        catch (Exception e)
        {
            code = CodeOf(e);
            throw;
        }
        finally
        {
            Finish(metrics, call, code);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        if (metrics is null)
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            return;
        }

        var call = Start(metrics, context.Method, GrpcTypes.ServerStream);
        call.Received.Inc();
        var code = StatusCode.Unknown;
        try
        {
            await continuation(request, new CountingWriter<TResponse>(responseStream, call.Sent), context).ConfigureAwait(false);
            code = StatusCode.OK;
        }
        catch (Exception e)
        {
            code = CodeOf(e);
            throw;
        }
        finally
        {
            Finish(metrics, call, code);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        if (metrics is null)
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
            return;
        }

        var call = Start(metrics, context.Method, GrpcTypes.BidiStream);
        var code = StatusCode.Unknown;
        try
        {
            await continuation(new CountingReader<TRequest>(requestStream, call.Received), new CountingWriter<TResponse>(responseStream, call.Sent), context)
                .ConfigureAwait(false);
            code = StatusCode.OK;
        }
        catch (Exception e)
        {
            code = CodeOf(e);
            throw;
        }
        finally
        {
            Finish(metrics, call, code);
        }
    }

    private static Call Start(NodeMetrics metrics, string fullMethod, string type)
    {
        var (service, method) = Split(fullMethod);
        metrics.GrpcStarted(service, method, type);
        var (received, sent) = metrics.GrpcMessages(service, method, type);
        return new Call(service, method, type, received, sent, Stopwatch.GetTimestamp());
    }

    private static void Finish(NodeMetrics metrics, Call call, StatusCode code) =>
        metrics.GrpcHandled(call.Service, call.Method, GoName(code), Stopwatch.GetElapsedTime(call.Started), call.Type);

    private static StatusCode CodeOf(Exception e) => e switch
    {
        RpcException rpc => rpc.StatusCode,
        OperationCanceledException => StatusCode.Cancelled,
        _ => StatusCode.Unknown,
    };

    /// <summary>The code as grpc-go's String() spells it (go-grpc-prometheus labels with that): Cancelled is Canceled there.</summary>
    internal static string GoName(StatusCode code) => code == StatusCode.Cancelled ? "Canceled" : code.ToString();

    /// <summary>"/etcdserverpb.KV/Range" -> ("etcdserverpb.KV", "Range").</summary>
    internal static (string Service, string Method) Split(string fullMethod)
    {
        var trimmed = fullMethod.TrimStart('/');
        var slash = trimmed.LastIndexOf('/');
        return slash < 0 ? (trimmed, string.Empty) : (trimmed[..slash], trimmed[(slash + 1)..]);
    }

    private sealed record Call(string Service, string Method, string Type, Counter.Child Received, Counter.Child Sent, long Started);

    private sealed class CountingReader<T>(IAsyncStreamReader<T> inner, Counter.Child received) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            var more = await inner.MoveNext(cancellationToken).ConfigureAwait(false);
            if (more)
            {
                received.Inc();
            }

            return more;
        }
    }

    private sealed class CountingWriter<T>(IServerStreamWriter<T> inner, Counter.Child sent) : IServerStreamWriter<T>
    {
        public WriteOptions? WriteOptions
        {
            get => inner.WriteOptions;
            set => inner.WriteOptions = value;
        }

        public async Task WriteAsync(T message)
        {
            await inner.WriteAsync(message).ConfigureAwait(false);
            sent.Inc();
        }

        public async Task WriteAsync(T message, CancellationToken cancellationToken)
        {
            await inner.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            sent.Inc();
        }
    }
}

/// <summary>go-grpc-prometheus's grpc_type label values.</summary>
public static class GrpcTypes
{
    public const string Unary = "unary";
    public const string ClientStream = "client_stream";
    public const string ServerStream = "server_stream";
    public const string BidiStream = "bidi_stream";

    public static string Of(MethodType type) => type switch
    {
        MethodType.Unary => Unary,
        MethodType.ClientStreaming => ClientStream,
        MethodType.ServerStreaming => ServerStream,
        _ => BidiStream,
    };
}
