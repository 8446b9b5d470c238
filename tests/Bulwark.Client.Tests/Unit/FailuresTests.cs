using System.Net.Http;
using System.Net.Sockets;
using Grpc.Core;

namespace Bulwark.Client.Tests.Unit;

/// <summary>
/// Which failures let a write be sent again: only those that prove it never took effect (no connection, or a Bulwark
/// member's refusal before proposing); a reset, a deadline or "leader changed" after sending leave the outcome unknown.
/// </summary>
public sealed class FailuresTests
{
    [Fact]
    public void A_refused_connection_proves_the_request_was_never_sent()
    {
        var refused = Unavailable(new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused", new SocketException((int)SocketError.ConnectionRefused)));
        Assert.True(CallFailures.ProvesNotSent(refused));
        Assert.True(CallFailures.IsTransient(refused));
    }

    [Fact]
    public void A_reset_after_sending_a_deadline_or_a_server_error_prove_nothing()
    {
        var reset = Unavailable(new IOException("The request was aborted.", new SocketException((int)SocketError.ConnectionReset)));
        Assert.False(CallFailures.ProvesNotSent(reset));
        Assert.True(CallFailures.IsTransient(reset));

        var deadline = new RpcException(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"));
        Assert.False(CallFailures.ProvesNotSent(deadline));
        Assert.True(CallFailures.IsTransient(deadline));

        var leaderChanged = new RpcException(new Status(StatusCode.Unavailable, "etcdserver: leader changed"));
        Assert.False(CallFailures.ProvesNotSent(leaderChanged));
        Assert.True(CallFailures.IsTransient(leaderChanged));
    }

    [Fact]
    public void A_bulwark_refusal_before_proposing_proves_the_write_never_took_effect()
    {
        var refused = new RpcException(new Status(StatusCode.Unavailable, "etcdserver: no leader"), new Metadata { { CallFailures.NotProposedTrailer, "1" } });
        Assert.True(CallFailures.ProvesNotApplied(refused));
        Assert.False(CallFailures.ProvesNotSent(refused));

        // The same status without the trailer (what etcd sends, or Bulwark after the request entered a log) proves nothing.
        Assert.False(CallFailures.ProvesNotApplied(new RpcException(new Status(StatusCode.Unavailable, "etcdserver: no leader"))));
        Assert.False(CallFailures.ProvesNotApplied(new RpcException(new Status(StatusCode.Unavailable, "etcdserver: no leader"), new Metadata { { CallFailures.NotProposedTrailer, "0" } })));
        Assert.True(CallFailures.ProvesNotApplied(Unavailable(new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused", new SocketException((int)SocketError.ConnectionRefused)))));
    }

    [Fact]
    public void The_servers_answers_are_not_transient()
    {
        Assert.False(CallFailures.IsTransient(new RpcException(new Status(StatusCode.InvalidArgument, "etcdserver: key is not provided"))));
        Assert.False(CallFailures.IsTransient(new RpcException(new Status(StatusCode.NotFound, "etcdserver: requested lease not found"))));
        Assert.False(CallFailures.IsTransient(new RpcException(new Status(StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted"))));
    }

    private static RpcException Unavailable(Exception debug) => new(new Status(StatusCode.Unavailable, "Error starting gRPC call.", debug));
}
