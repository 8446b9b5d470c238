using Bulwark.Api.V1;
using Bulwark.Server.Hosting;
using Bulwark.Server.Observability;
using Grpc.Core;

namespace Bulwark.Server.Api;

/// <summary>
/// bulwark.v1.Node: what etcd's API has no field for. Peers answers with this member's failure-detector view of every
/// other member (the same judgement the metrics, journal and status page show), read from the node's
/// <see cref="NodeObservability"/>; a node hosted without one answers FailedPrecondition rather than an empty list that
/// would look like "no peers".
/// </summary>
public sealed class NodeService(NodeHost node) : Node.NodeBase
{
    public override Task<PeersResponse> Peers(PeersRequest request, ServerCallContext context)
    {
        if (node.Options.Observer is not NodeObservability observability)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                "bulwark: this member runs without failure detection (no observability attached to its node host), so it has no peer view"));
        }

        if (observability.Node is null)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "bulwark: this member is still starting; its failure detector has not sampled yet"));
        }

        var status = node.Status;
        var response = new PeersResponse
        {
            MemberId = node.MemberId,
            Name = observability.Name,
            Leader = status.Leader,
            SuspectPhi = observability.Peers.SuspectPhi,
            DownAfterMs = observability.Peers.DownAfter.TotalMilliseconds,
        };
        foreach (var peer in observability.PeersNow())
        {
            response.Peers.Add(ToPeer(peer));
        }

        return Task.FromResult(response);
    }

    public override Task<VitalsResponse> Vitals(VitalsRequest request, ServerCallContext context)
    {
        var observability = AttachedObservability();
        return Task.FromResult(MemberVitals.Local(observability, node, DateTimeOffset.UtcNow).ToResponse(node.MemberId, observability.Name));
    }

    private NodeObservability AttachedObservability()
    {
        if (node.Options.Observer is not NodeObservability observability)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                "bulwark: this member runs without observability (none attached to its node host), so it has no vital signs to report"));
        }

        return observability;
    }

    private static Peer ToPeer(PeerHealth health)
    {
        var peer = new Peer
        {
            MemberId = health.Id,
            Name = health.Name,
            State = health.State switch
            {
                Observability.PeerState.Suspect => Bulwark.Api.V1.PeerState.Suspect,
                Observability.PeerState.Down => Bulwark.Api.V1.PeerState.Down,
                _ => Bulwark.Api.V1.PeerState.Up,
            },
            Reason = health.Reason,
            Phi = health.Phi,
            Judged = health.Judged,
        };
        if (health.RoundTripMs is { } rtt)
        {
            peer.LastRttMs = rtt;
        }

        if (health.SmoothedRoundTripMs is { } srtt)
        {
            peer.SmoothedRttMs = srtt;
        }

        if (health.SilenceMs is { } silent)
        {
            peer.SilentMs = silent;
        }

        return peer;
    }
}
