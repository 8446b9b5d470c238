using Grpc.Core;

namespace Bulwark.Kv.Errors;

/// <summary>
/// A request the store refused. Carries the gRPC status code and message etcd gives for the
/// same condition, so the API layer can pass it to the client unchanged. A request that ends
/// in a <see cref="KvException"/> has changed nothing in the store.
/// </summary>
public sealed class KvException : Exception
{
    public KvException(StatusCode statusCode, string message)
        : base(message)
    {
        StatusCode = statusCode;
    }

    public KvException()
        : this(StatusCode.Unknown, "bulwark: unknown key-value error")
    {
    }

    public KvException(string message)
        : this(StatusCode.Unknown, message)
    {
    }

    public KvException(string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = StatusCode.Unknown;
    }

    public StatusCode StatusCode { get; }

    /// <summary>The status a gRPC service returns for this error.</summary>
    public Status ToStatus() => new(StatusCode, Message);

    /// <summary>The exception a gRPC service throws to send this error to the client.</summary>
    public RpcException ToRpcException() => new(ToStatus());
}
