using Bulwark.Kv.Errors;
using Grpc.Core;

namespace Bulwark.Cli.Client;

/// <summary>What to tell a user whose request (usually a large value) is over the members' request size limit.</summary>
public static class RequestTooLarge
{
    /// <summary>A sentence to append to the error when <paramref name="e"/> is a size refusal, else "".</summary>
    public static string Hint(RpcException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var tooLarge = e.Status.Detail == KvErrors.RequestTooLargeMessage || e.StatusCode == StatusCode.ResourceExhausted;
        return tooLarge
            ? "; a request (key, value and framing) may be at most the members' max-request-bytes, 1.5 MiB unless raised (up to 8 MiB) on every member with --max-request-bytes"
            : "";
    }
}
