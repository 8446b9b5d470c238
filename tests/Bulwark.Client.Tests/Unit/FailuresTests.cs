using System.Net.Http;
using System.Net.Sockets;
using Bulwark.Client.Calls;
using Grpc.Core;

namespace Bulwark.Client.Tests.Unit;

/// <summary>
/// Which failures let a write be sent again: only those that prove it never left (no connection); a reset, a
/// deadline or "leader changed" after sending leave the outcome unknown.
/// </summary>
public sealed class FailuresTests
{
    [Fact]
    public void A_refused_connection_proves_the_request_was_never_sent()
    {
        var refused = Unavailable(new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused", new SocketException((int)SocketError.ConnectionRefused)));
        Assert.True(Failures.ProvesNotSent(refused));
        Assert.True(Failures.IsTransient(refused));
    }

    [Fact]
    public void A_reset_after_sending_a_deadline_or_a_server_error_prove_nothing()
    {
        var reset = Unavailable(new IOException("The request was aborted.", new SocketException((int)SocketError.ConnectionReset)));
        Assert.False(Failures.ProvesNotSent(reset));
        Assert.True(Failures.IsTransient(reset));

        var deadline = new RpcException(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"));
        Assert.False(Failures.ProvesNotSent(deadline));
        Assert.True(Failures.IsTransient(deadline));

        var leaderChanged = new RpcException(new Status(StatusCode.Unavailable, "etcdserver: leader changed"));
        Assert.False(Failures.ProvesNotSent(leaderChanged));
        Assert.True(Failures.IsTransient(leaderChanged));
    }

    [Fact]
    public void The_servers_answers_are_not_transient()
    {
        Assert.False(Failures.IsTransient(new RpcException(new Status(StatusCode.InvalidArgument, "etcdserver: key is not provided"))));
        Assert.False(Failures.IsTransient(new RpcException(new Status(StatusCode.NotFound, "etcdserver: requested lease not found"))));
        Assert.False(Failures.IsTransient(new RpcException(new Status(StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted"))));
    }

    private static RpcException Unavailable(Exception debug) => new(new Status(StatusCode.Unavailable, "Error starting gRPC call.", debug));
}
