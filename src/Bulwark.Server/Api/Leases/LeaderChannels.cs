using System.Collections.Concurrent;
using Bulwark.Server.Hosting;
using Grpc.Core;
using Grpc.Net.Client;

namespace Bulwark.Server.Api.Leases;

/// <summary>
/// gRPC channels to the current leader's client URL, for what only the leader can answer (lease keep-alives and
/// remaining TTLs, as etcd forwards them to its leader). One channel per URL, kept for the server's lifetime.
/// </summary>
public sealed class LeaderChannels(Security.TlsCredentials? tls = null) : IDisposable
{
    /// <summary>Marks a call forwarded by a member, so the receiver answers it itself or refuses; never forwards again.</summary>
    internal const string ForwardedHeader = "bulwark-forwarded";

    private readonly ConcurrentDictionary<string, GrpcChannel> channels = new(StringComparer.Ordinal);

    /// <summary>A call invoker to the leader <paramref name="node"/> knows of, or null when it knows none (or no URL for it).</summary>
    public CallInvoker? ForLeader(NodeHost node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var leader = node.Status.Leader;
        if (leader == 0 || leader == node.MemberId)
        {
            return null;
        }

        var url = node.Members.FirstOrDefault(m => m.Id == leader)?.ClientUrls.FirstOrDefault();
        return url is null ? null : channels.GetOrAdd(url, u => Security.MemberChannels.Create(u, tls)).CreateCallInvoker();
    }

    internal static bool IsForwarded(ServerCallContext context) => context.RequestHeaders.Get(ForwardedHeader) is not null;

    internal static Metadata ForwardedMetadata() => new() { { ForwardedHeader, "1" } };

    /// <summary>A forwarded call carrying how many members passed it on (its header's value; 0 when not forwarded).</summary>
    internal static Metadata ForwardedMetadata(int hops) => new() { { ForwardedHeader, hops.ToString(System.Globalization.CultureInfo.InvariantCulture) } };

    /// <summary>How many members passed this call on (0: it came from a client).</summary>
    internal static int ForwardHops(ServerCallContext context) =>
        context.RequestHeaders.Get(ForwardedHeader) is { } header
            ? int.TryParse(header.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var hops) ? Math.Max(hops, 1) : 1
            : 0;

    public void Dispose()
    {
        foreach (var channel in channels.Values)
        {
            channel.Dispose();
        }

        channels.Clear();
    }
}
