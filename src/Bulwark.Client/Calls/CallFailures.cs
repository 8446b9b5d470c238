using System.Net.Http;
using System.Net.Sockets;
using Grpc.Core;

namespace Bulwark.Client;

/// <summary>
/// What a failed call tells: whether another member might answer, and whether the request surely never left. The
/// client's own retry rules use these; they are public for callers that make their own calls (or record histories, as
/// `bulwark chaos` does) and must tell a write that surely did not happen from one whose outcome is unknown.
/// </summary>
public static class CallFailures
{
    /// <summary>
    /// Failures another member (or the same one a moment later) may not have: unreachable, no leader, leader changed,
    /// the attempt's deadline, overload. Everything else (bad argument, not found, compacted) is the server's answer.
    /// </summary>
    public static bool IsTransient(RpcException e) => e.StatusCode switch
    {
        StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Aborted => true,
        StatusCode.ResourceExhausted => e.Status.Detail.Contains("too many requests", StringComparison.Ordinal),
        // A Bulwark member still starting refuses with FailedPrecondition "still starting".
        StatusCode.FailedPrecondition => e.Status.Detail.Contains("still starting", StringComparison.Ordinal),
        StatusCode.Unknown => e.Status.DebugException is IOException or HttpRequestException,
        _ => false,
    };

    /// <summary>
    /// True only when the failure proves the request was never sent: the connection could not be established
    /// (refused, unreachable, connect timeout). A reset or a deadline after sending proves nothing.
    /// </summary>
    public static bool ProvesNotSent(RpcException e)
    {
        if (e.StatusCode != StatusCode.Unavailable)
        {
            return false;
        }

        for (var inner = e.Status.DebugException ?? e.InnerException; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError }:
                    return true;
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostNotFound }:
                    return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Bulwark's response trailer on a refusal that came before the request reached any log (no leader known, queue
    /// full, disk full, member catching up); the server's NodeErrorStatus.NotProposedTrailer. etcd never sends it.
    /// </summary>
    public const string NotProposedTrailer = "bulwark-not-proposed";

    /// <summary>
    /// True when the failure proves the request did not and will not take effect: it was never sent
    /// (<see cref="ProvesNotSent"/>), or a Bulwark member answered that it refused it before proposing
    /// (<see cref="NotProposedTrailer"/>). Anything else (a reset, a deadline, "leader changed") leaves the outcome open.
    /// </summary>
    public static bool ProvesNotApplied(RpcException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return ProvesNotSent(e) || e.Trailers.GetValue(NotProposedTrailer) == "1";
    }

    /// <summary>A one-line description of a failed call: the gRPC code and detail, or the exception's type and message.</summary>
    public static string Describe(Exception e) => e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : $"{e.GetType().Name}: {e.Message}";
}
