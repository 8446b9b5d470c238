using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv.Errors;
using Bulwark.Server.Hosting;
using Grpc.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Api.Leases;

/// <summary>
/// Bulwark's opt-in "release on disconnect" for client leases. A LeaseKeepAlive stream whose metadata carries
/// <c>bulwark-lease-release-on-disconnect: 1</c> binds every lease it keeps alive to itself; when the stream ends because
/// the client went away (it closed the stream, cancelled it, or its connection closed with FIN or RST, as when the
/// client process is killed), this member revokes those leases through the log, like any LeaseRevoke: their keys go at
/// once and watchers see it, instead of a TTL later. Etcd (which ignores unknown metadata) keeps etcd's behaviour.
/// </summary>
/// <remarks>
/// Only the client's departure releases. A stream that ends because this member is stopping (the host's stopping
/// signal fired first: graceful stop, restart) or because the member answered with an error does not; nor does a
/// silent network: Kestrel here sends no HTTP/2 keep-alive pings and enforces no idle or data-rate timeout on such a
/// stream, so the server never ends it on its own initiative. In a partition the connection just stays open, the lease
/// runs to its TTL, and the client's own keep-alive deadline (shorter than the TTL) fires first: the client learns it
/// lost the lease before anyone else can take what it held.
/// </remarks>
internal sealed class ReleaseOnDisconnect
{
    /// <summary>The metadata key a client sends on its keep-alive stream to opt in (value "1").</summary>
    public const string Header = "bulwark-lease-release-on-disconnect";

    private readonly HashSet<long> bound = [];

    // The revoke is the client's own act, so it is checked as that client (the keys it deletes need write access).
    private readonly Auth.CallerCredentials caller;

    private ReleaseOnDisconnect(string peer, Auth.CallerCredentials caller)
    {
        Peer = peer;
        this.caller = caller;
    }

    /// <summary>The client's address, for the journal.</summary>
    public string Peer { get; }

    /// <summary>A binding for the stream when its client asked for one, else null (etcd's behaviour).</summary>
    public static ReleaseOnDisconnect? For(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.RequestHeaders.Get(Header)?.Value != "1")
        {
            return null;
        }

        // A bound stream may sit idle between keep-alives for long; no server-side data-rate rule may end it.
        if (context.GetHttpContext().Features.Get<IHttpMinResponseDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }

        return new ReleaseOnDisconnect(context.Peer, Auth.CallerCredentials.From(context));
    }

    /// <summary>Binds <paramref name="leaseId"/> to the stream (a keep-alive was sent for it).</summary>
    public void Bind(long leaseId) => bound.Add(leaseId);

    /// <summary>Revokes every bound lease through the log; a lease already gone is skipped, a failure logged.</summary>
    public async Task ReleaseAsync(NodeHost node, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(node);
        foreach (var id in bound)
        {
            try
            {
                await ApiContext.ProposeAsync<LeaseRevokeResponse>(node, new RaftCommand { LeaseRevoke = new LeaseRevokeRequest { ID = id } }, caller, CancellationToken.None)
                    .ConfigureAwait(false);
                ReleaseOnDisconnectLog.Released(logger, id, Peer);
                node.Options.Observer?.LeaseReleasedOnDisconnect(id, Peer);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && e.Status.Detail == KvErrors.LeaseNotFoundMessage)
            {
                // Revoked or expired already: nothing held on it any more.
            }
            catch (Exception e) when (e is RpcException or NodeException or KvException or OperationCanceledException)
            {
                ReleaseOnDisconnectLog.Failed(logger, id, Peer, e.Message);
            }
        }
    }
}

internal static partial class ReleaseOnDisconnectLog
{
    [LoggerMessage(EventId = 1400, Level = LogLevel.Information, Message = "lease {LeaseId:x} revoked: its keep-alive client {Peer} went away (bulwark-lease-release-on-disconnect)")]
    public static partial void Released(ILogger logger, long leaseId, string peer);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Warning, Message = "lease {LeaseId:x} not revoked after its keep-alive client {Peer} went away: {Reason}; it runs to its TTL")]
    public static partial void Failed(ILogger logger, long leaseId, string peer, string reason);
}
