using System.Collections.Concurrent;
using Bulwark.Api.Etcdserverpb;
using Grpc.Core;
using Grpc.Net.Client;

namespace Bulwark.Server.Hosting;

/// <summary>How the corruption check reaches a peer's HashKV (a seam: tests answer without sockets).</summary>
public interface IPeerHashSource
{
    /// <summary>
    /// <paramref name="member"/>'s HashKV at <paramref name="revision"/>, or null with why not: the member has not reached
    /// the revision, compacted past it, or could not be reached on any of its client URLs.
    /// </summary>
    Task<(MemberHash? Hash, string? Unavailable)> HashAsync(ClusterMember member, long revision, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>
/// Asks a peer for HashKV through etcd's gRPC Maintenance.HashKV on the client URLs the peer published in the member
/// table (etcd 3.3 did the same; 3.4 moved it to an HTTP handler on the peer port). The RPC and its answer already
/// exist and are the ones `etcdctl endpoint hashkv` uses, so no second protocol enters the peer transport, whose frames
/// carry Raft messages and snapshots only.
/// </summary>
public sealed class PeerHashClient(Security.TlsCredentials? tls = null) : IPeerHashSource, IDisposable
{
    private readonly ConcurrentDictionary<string, GrpcChannel> channels = new(StringComparer.Ordinal);

    public async Task<(MemberHash? Hash, string? Unavailable)> HashAsync(ClusterMember member, long revision, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (member.ClientUrls.Count == 0)
        {
            return (null, "it has not published client URLs");
        }

        string why = "";
        foreach (var url in member.ClientUrls)
        {
            try
            {
                var channel = channels.GetOrAdd(url, u => Security.MemberChannels.Create(u, tls));
                var response = await new Maintenance.MaintenanceClient(channel)
                    .HashKVAsync(new HashKVRequest { Revision = revision }, deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken)
                    .ConfigureAwait(false);
                if (response.Header.MemberId != member.Id)
                {
                    return (null, $"{url} answered as member {response.Header.MemberId:x}");
                }

                return (new MemberHash(member.Id, response.Hash, response.Header.Revision, response.CompactRevision), null);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.OutOfRange)
            {
                // etcd's ErrFutureRev (not applied that far yet) or ErrCompacted: behind or ahead in compaction, not corrupt.
                return (null, e.Status.Detail);
            }
            catch (Exception e) when (e is RpcException or HttpRequestException or UriFormatException or InvalidOperationException)
            {
                why = $"{url}: {(e is RpcException rpc ? rpc.Status.Detail : e.Message)}";
            }
        }

        return (null, why);
    }

    public void Dispose()
    {
        foreach (var channel in channels.Values)
        {
            channel.Dispose();
        }
    }
}
