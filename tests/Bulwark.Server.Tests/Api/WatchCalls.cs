using Bulwark.Api.Etcdserverpb;
using Grpc.Core;

namespace Bulwark.Server.Tests.Api;

/// <summary>Reading a watch stream in tests.</summary>
internal static class WatchCalls
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>The next response; fails when the stream ends or nothing comes within a minute.</summary>
    public static async Task<WatchResponse> NextAsync(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        Assert.True(await call.ResponseStream.MoveNext(deadline.Token), "the watch stream ended");
        return call.ResponseStream.Current;
    }
}
