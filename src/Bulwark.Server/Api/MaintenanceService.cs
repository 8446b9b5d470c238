using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Hosting;
using Grpc.Core;

namespace Bulwark.Server.Api;

/// <summary>etcdserverpb.Maintenance: Status (what clients call on connect and `etcdctl endpoint status` shows).</summary>
public sealed class MaintenanceService(NodeHost node) : Maintenance.MaintenanceBase
{
    /// <summary>The etcd API version Bulwark speaks (etcd v3.5 wire protocol).</summary>
    public const string ApiVersion = "3.5.0";

    public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        var status = node.Status;
        var response = new StatusResponse
        {
            Header = ApiContext.Header(node, null),
            Version = ApiVersion,
            DbSize = node.KvDataBytes,
            Leader = status.Leader,
            RaftIndex = status.Commit,
            RaftTerm = status.Term,
            RaftAppliedIndex = status.Applied,
            IsLearner = false,
        };
        response.DbSizeInUse = response.DbSize;
        return Task.FromResult(response);
    }
}
