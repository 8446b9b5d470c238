using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Api;
using Bulwark.Server.Hosting;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Server.Tests.Api;

/// <summary>
/// The node host raises its own errors; the API layer alone turns them into what etcd answers. The expected statuses
/// are written out here, byte for byte as etcd gives them (and as Bulwark gave them before the host stopped speaking
/// gRPC), so a change to the mapping shows up as a failure rather than a silently different answer.
/// </summary>
public sealed class NodeErrorStatusTests
{
    public static TheoryData<NodeException, StatusCode, string> Expected => new()
    {
        { ServerErrors.NoLeader(), StatusCode.Unavailable, "etcdserver: no leader" },
        { ServerErrors.Timeout(), StatusCode.Unavailable, "etcdserver: request timed out" },
        { ServerErrors.LeaderChanged(), StatusCode.Unavailable, "etcdserver: leader changed" },
        { ServerErrors.TooManyRequests(), StatusCode.ResourceExhausted, "etcdserver: too many requests" },
        {
            ServerErrors.CatchingUp(), StatusCode.Unavailable,
            "etcdserver: this member is catching up (applying entries committed before it started); retry, or use another member"
        },
        { ServerErrors.NoSpace(), StatusCode.ResourceExhausted, "etcdserver: mvcc: database space exceeded" },
        {
            ServerErrors.DiskBlocked(), StatusCode.Unavailable,
            "etcdserver: this member cannot write to its disk (alarm NOSPACE), so it cannot serve linearizable reads; use a serializable read or another member"
        },
        { ServerErrors.Stopped("node is shutting down"), StatusCode.Unavailable, "etcdserver: server stopped (node is shutting down)" },
    };

    [Theory]
    [MemberData(nameof(Expected))]
    public void Each_node_error_maps_to_etcds_status_and_message(NodeException error, StatusCode code, string detail)
    {
        var rpc = NodeErrorStatus.ToRpcException(error);
        Assert.Equal(code, rpc.StatusCode);
        Assert.Equal(detail, rpc.Status.Detail);
    }

    [Fact]
    public void Every_kind_of_node_error_has_a_mapping()
    {
        var mapped = Expected.Select(row => ((NodeException)row[0]).Error).ToHashSet();
        Assert.Equal(Enum.GetValues<NodeError>().ToHashSet(), mapped);
    }

    [Fact]
    public void Only_a_refusal_before_proposing_carries_the_not_proposed_trailer()
    {
        var refused = NodeErrorStatus.ToRpcException(ServerErrors.NoLeader().AsNeverProposed());
        Assert.Equal((StatusCode.Unavailable, "etcdserver: no leader"), (refused.StatusCode, refused.Status.Detail));
        Assert.Equal("1", refused.Trailers.GetValue(NodeErrorStatus.NotProposedTrailer));

        // The same error raised after the core took the request (e.g. a forwarded proposal the transport dropped) says nothing.
        Assert.Null(NodeErrorStatus.ToRpcException(ServerErrors.NoLeader()).Trailers.GetValue(NodeErrorStatus.NotProposedTrailer));
        Assert.Null(NodeErrorStatus.ToRpcException(ServerErrors.LeaderChanged()).Trailers.GetValue(NodeErrorStatus.NotProposedTrailer));
        var marked = ServerErrors.Stopped("why").AsNeverProposed();
        Assert.Equal((NodeError.Stopped, "why"), (marked.Error, marked.Reason));
    }

    [Fact]
    public async Task A_client_of_a_member_without_a_leader_gets_etcds_no_leader_from_every_service()
    {
        await using var cluster = new ApiCluster(3);
        await cluster.StartAsync(0);

        var put = await Assert.ThrowsAsync<RpcException>(() => cluster.Kv(0).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("k") }).ResponseAsync);
        Assert.Equal((StatusCode.Unavailable, "etcdserver: no leader"), (put.StatusCode, put.Status.Detail));
        // Refused before it reached any log: the client is told it surely did not take effect (etcd clients ignore this).
        Assert.Equal("1", put.Trailers.GetValue(NodeErrorStatus.NotProposedTrailer));

        var range = await Assert.ThrowsAsync<RpcException>(() => cluster.Kv(0).RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k") }).ResponseAsync);
        Assert.Equal((StatusCode.Unavailable, "etcdserver: no leader"), (range.StatusCode, range.Status.Detail));

        var members = await Assert.ThrowsAsync<RpcException>(() => cluster.Cluster(0).MemberListAsync(new MemberListRequest { Linearizable = true }).ResponseAsync);
        Assert.Equal((StatusCode.Unavailable, "etcdserver: no leader"), (members.StatusCode, members.Status.Detail));
    }
}
