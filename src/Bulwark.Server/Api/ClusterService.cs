using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Hosting;
using Grpc.Core;

namespace Bulwark.Server.Api;

/// <summary>etcdserverpb.Cluster: MemberList (every member's id, name, peer and client URLs).</summary>
public sealed class ClusterService(NodeHost node) : Cluster.ClusterBase
{
    public override Task<MemberListResponse> MemberList(MemberListRequest request, ServerCallContext context) => ApiContext.Guard(async () =>
    {
        if (request.Linearizable)
        {
            await node.LinearizableBarrierAsync(context.CancellationToken).ConfigureAwait(false);
        }

        var response = new MemberListResponse { Header = ApiContext.Header(node, null) };
        foreach (var member in node.Members)
        {
            var entry = new Member { ID = member.Id, Name = member.Name };
            entry.PeerURLs.AddRange(member.PeerUrls);
            entry.ClientURLs.AddRange(member.ClientUrls);
            response.Members.Add(entry);
        }

        return response;
    });
}
