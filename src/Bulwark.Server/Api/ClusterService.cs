using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Api.Leases;
using Bulwark.Server.Hosting;
using Grpc.Core;

namespace Bulwark.Server.Api;

/// <summary>
/// etcdserverpb.Cluster: MemberList, and the membership changes MemberAdd, MemberRemove, MemberUpdate and MemberPromote
/// with etcd 3.4's semantics. A change is decided and proposed by the leader (<see cref="NodeHost.ChangeMembershipAsync"/>,
/// checked by <see cref="ReconfigurationCheck"/>) and answered once applied, with the member list as of it; a follower
/// forwards the call to its leader's client URL (as etcd forwards to its leader). Removing the leader first hands
/// leadership to the most caught-up voter, and the new leader makes the change.
/// </summary>
public sealed class ClusterService(NodeHost node, LeaderChannels leaders) : Cluster.ClusterBase
{
    /// <summary>A call may be passed on twice: follower to leader, and a leader that hands over before its own removal.</summary>
    private const int MaxForwardHops = 2;

    public override Task<MemberListResponse> MemberList(MemberListRequest request, ServerCallContext context) => ApiContext.Guard(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (request.Linearizable)
        {
            await node.LinearizableBarrierAsync(context.CancellationToken).ConfigureAwait(false);
        }

        var response = new MemberListResponse { Header = ApiContext.Header(node, null) };
        response.Members.AddRange(MemberList());
        return response;
    });

    public override Task<MemberAddResponse> MemberAdd(MemberAddRequest request, ServerCallContext context) => Guard(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        await CheckAdminAsync(context).ConfigureAwait(false);
        var urls = MemberUrls.Parse(request.PeerURLs);
        if (!IsLeaderOrThrow())
        {
            return await Forward(context).MemberAddAsync(request, await ForwardOptionsAsync(context)).ConfigureAwait(false);
        }

        var id = MemberIds.New(urls, node.ClusterId, DateTimeOffset.UtcNow, taken => node.Members.Any(m => m.Id == taken) || node.IsRemovedMember(taken));
        await node.ChangeMembershipAsync(new MembershipRequest.Add(id, urls, request.IsLearner), context.CancellationToken).ConfigureAwait(false);
        var member = node.Members.FirstOrDefault(m => m.Id == id) ?? throw ServerErrors.LeaderChanged();
        var response = new MemberAddResponse { Header = ApiContext.Header(node, null), Member = ToProto(member) };
        response.Members.AddRange(MemberList());
        return response;
    });

    public override Task<MemberRemoveResponse> MemberRemove(MemberRemoveRequest request, ServerCallContext context) => Guard(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        await CheckAdminAsync(context).ConfigureAwait(false);
        if (request.ID == node.MemberId && node.Status.IsLeader && node.Members.Count(m => !m.IsLearner) > 1)
        {
            // Hand over first, so clients see one quick leader change instead of an election timeout; the new leader
            // then removes this member. If no voter can take over now, this leader removes itself (it steps down once
            // the removal commits).
            if (await node.HandOverLeadershipAsync(context.CancellationToken).ConfigureAwait(false) != 0)
            {
                return await Forward(context, evenIfForwarded: true).MemberRemoveAsync(request, await ForwardOptionsAsync(context)).ConfigureAwait(false);
            }
        }

        if (!IsLeaderOrThrow())
        {
            return await Forward(context).MemberRemoveAsync(request, await ForwardOptionsAsync(context)).ConfigureAwait(false);
        }

        await node.ChangeMembershipAsync(new MembershipRequest.Remove(request.ID), context.CancellationToken).ConfigureAwait(false);
        if (node.Members.Any(m => m.Id == request.ID))
        {
            throw ServerErrors.LeaderChanged();
        }

        var response = new MemberRemoveResponse { Header = ApiContext.Header(node, null) };
        response.Members.AddRange(MemberList());
        return response;
    });

    public override Task<MemberUpdateResponse> MemberUpdate(MemberUpdateRequest request, ServerCallContext context) => Guard(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        await CheckAdminAsync(context).ConfigureAwait(false);
        var urls = MemberUrls.Parse(request.PeerURLs);
        if (!IsLeaderOrThrow())
        {
            return await Forward(context).MemberUpdateAsync(request, await ForwardOptionsAsync(context)).ConfigureAwait(false);
        }

        await node.ChangeMembershipAsync(new MembershipRequest.Update(request.ID, urls), context.CancellationToken).ConfigureAwait(false);
        if (node.Members.FirstOrDefault(m => m.Id == request.ID) is not { } updated || !updated.PeerUrls.SequenceEqual(urls))
        {
            throw ServerErrors.LeaderChanged();
        }

        var response = new MemberUpdateResponse { Header = ApiContext.Header(node, null) };
        response.Members.AddRange(MemberList());
        return response;
    });

    public override Task<MemberPromoteResponse> MemberPromote(MemberPromoteRequest request, ServerCallContext context) => Guard(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        await CheckAdminAsync(context).ConfigureAwait(false);
        if (!IsLeaderOrThrow())
        {
            return await Forward(context).MemberPromoteAsync(request, await ForwardOptionsAsync(context)).ConfigureAwait(false);
        }

        await node.ChangeMembershipAsync(new MembershipRequest.Promote(request.ID), context.CancellationToken).ConfigureAwait(false);
        if (node.Members.FirstOrDefault(m => m.Id == request.ID) is not { IsLearner: false })
        {
            throw ServerErrors.LeaderChanged();
        }

        var response = new MemberPromoteResponse { Header = ApiContext.Header(node, null) };
        response.Members.AddRange(MemberList());
        return response;
    });

    private IEnumerable<Member> MemberList() => node.Members.Select(ToProto);

    private static Member ToProto(ClusterMember member)
    {
        var entry = new Member { ID = member.Id, Name = member.Name, IsLearner = member.IsLearner };
        entry.PeerURLs.AddRange(member.PeerUrls);
        entry.ClientURLs.AddRange(member.ClientUrls);
        return entry;
    }

    /// <summary>True on the leader; false on a follower that knows a leader (the call is forwarded); no leader throws.</summary>
    private bool IsLeaderOrThrow()
    {
        var status = node.Status;
        return status.Leader != 0 ? status.IsLeader : throw ServerErrors.NoLeader();
    }

    /// <summary>The leader's Cluster client; a call already forwarded as often as allowed is refused instead.</summary>
    private Cluster.ClusterClient Forward(ServerCallContext context, bool evenIfForwarded = false)
    {
        var hops = LeaderChannels.ForwardHops(context);
        if (hops >= MaxForwardHops || (hops > 0 && !evenIfForwarded))
        {
            throw ServerErrors.LeaderChanged(); // the leader moved while the call was on its way
        }

        return new Cluster.ClusterClient(leaders.ForLeader(node) ?? throw ServerErrors.NoLeader());
    }

    private async Task<CallOptions> ForwardOptionsAsync(ServerCallContext context) => new(
        headers: await ForwardedHeadersAsync(context).ConfigureAwait(false),
        deadline: DateTime.UtcNow + node.Options.RequestTimeout * 2,
        cancellationToken: context.CancellationToken);

    /// <summary>
    /// The forwarding mark and the caller as a token: the leader checks the same caller this member did. A client
    /// certificate's user cannot travel as such (the leader sees this member's certificate, and no header naming a user
    /// is ever trusted), so this member, which verified the certificate, issues a token for that user to forward.
    /// </summary>
    private async Task<Metadata> ForwardedHeadersAsync(ServerCallContext context)
    {
        var headers = LeaderChannels.ForwardedMetadata(LeaderChannels.ForwardHops(context) + 1);
        var caller = Auth.CallerCredentials.From(context);
        if (caller.Token is null && caller.CertificateUser is { } user && node.Read(store => store.Auth.Enabled))
        {
            caller = caller with { Token = await Auth.Logins.CertificateTokenAsync(node, user, context.CancellationToken).ConfigureAwait(false) };
        }

        caller.AddTo(headers);
        return headers;
    }

    /// <summary>
    /// Membership changes need the root role, checked here and again by the leader a call is forwarded to. A forwarded
    /// call may carry a token whose login the forwarding member saw commit; a linearizable barrier makes sure this
    /// member has applied it too before looking the token up.
    /// </summary>
    private async Task CheckAdminAsync(ServerCallContext context)
    {
        if (LeaderChannels.ForwardHops(context) > 0)
        {
            await node.LinearizableBarrierAsync(context.CancellationToken).ConfigureAwait(false);
        }

        Auth.AuthGate.CheckAdmin(node, Auth.CallerCredentials.From(context));
    }

    /// <summary><see cref="ApiContext.Guard"/>, plus a refused membership change as etcd's status.</summary>
    private static Task<T> Guard<T>(Func<Task<T>> call) => ApiContext.Guard(async () =>
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (MembershipException e)
        {
            throw MembershipErrorStatus.ToRpcException(e);
        }
    });
}
