using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Hosting;
using Grpc.Core;

namespace Bulwark.Server.Api.Watches;

/// <summary>
/// etcdserverpb.Watch: one bidirectional stream carries any number of watchers, served from this member's applied state
/// (any member serves watches, as in etcd). The stream's work is in <see cref="WatchSession"/>; the catch-up of slow
/// watchers in the node-wide <see cref="WatchSyncLoop"/>.
/// </summary>
public sealed class WatchService(NodeHost node, WatchSyncLoop sync, LeaderlessStreams leaderless) : Watch.WatchBase
{
    public override async Task Watch(IAsyncStreamReader<WatchRequest> requestStream, IServerStreamWriter<WatchResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        GC.KeepAlive(sync); // created with the first stream and disposed with the server
        var session = new WatchSession(node, node.Options.WatchProgressNotifyInterval, Auth.CallerCredentials.From(context));
        if (!LeaderlessStreams.Requested(context))
        {
            await session.RunAsync(requestStream, responseStream, context.CancellationToken).ConfigureAwait(false);
            return;
        }

        using var registration = leaderless.Register(context.CancellationToken);
        await session.RunAsync(requestStream, responseStream, registration.Token).ConfigureAwait(false);
        if (registration.LostLeader)
        {
            throw LeaderlessStreams.NoLeader();
        }
    }
}
