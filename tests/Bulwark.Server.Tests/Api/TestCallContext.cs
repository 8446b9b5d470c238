using Grpc.Core;

namespace Bulwark.Server.Tests.Api;

/// <summary>
/// A call context for invoking a gRPC service method directly (no transport): no metadata, no peer, no deadline, so the
/// service sees an anonymous local caller, as a plain etcdctl call with auth off.
/// </summary>
internal sealed class TestCallContext : ServerCallContext
{
    public static TestCallContext Anonymous() => new();

    protected override string MethodCore => "test";

    protected override string HostCore => "localhost";

    protected override string PeerCore => "ipv4:127.0.0.1:0";

    protected override DateTime DeadlineCore => DateTime.MaxValue;

    protected override Metadata RequestHeadersCore { get; } = [];

    protected override CancellationToken CancellationTokenCore => CancellationToken.None;

    protected override Metadata ResponseTrailersCore { get; } = [];

    protected override Status StatusCore { get; set; }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore { get; } = new(null, []);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException("a test context propagates nothing");

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}
