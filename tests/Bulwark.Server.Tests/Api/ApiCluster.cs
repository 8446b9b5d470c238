using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Hosting;
using Bulwark.Server.Tests.Hosting;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;

namespace Bulwark.Server.Tests.Api;

/// <summary>A <see cref="LocalCluster"/> with each node's etcd gRPC API served on its loopback client URL.</summary>
internal sealed class ApiCluster : IAsyncDisposable
{
    private readonly WebApplication?[] servers;
    private readonly List<GrpcChannel> channels = [];

    public ApiCluster(int size = 3, ulong snapshotThreshold = 10_000, Func<NodeHostOptions, NodeHostOptions>? adjust = null)
    {
        Nodes = new LocalCluster(size, snapshotThreshold, adjust);
        servers = new WebApplication?[size];
    }

    public LocalCluster Nodes { get; }

    public async Task StartAllAsync()
    {
        for (var i = 0; i < Nodes.Size; i++)
        {
            await StartAsync(i);
        }
    }

    public async Task StartAsync(int i)
    {
        var node = Nodes.Start(i);
        var app = ServerHost.Build(node, [Nodes.ClientUrls[i]]);
        await app.StartAsync();
        servers[i] = app;
    }

    public async Task StopAsync(int i)
    {
        if (servers[i] is { } app)
        {
            servers[i] = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }

        await Nodes.StopAsync(i);
    }

    public KV.KVClient Kv(int i) => new(Channel(i));

    public Maintenance.MaintenanceClient Maintenance(int i) => new(Channel(i));

    public Watch.WatchClient Watch(int i) => new(Channel(i));

    public Lease.LeaseClient Lease(int i) => new(Channel(i));

    public Cluster.ClusterClient Cluster(int i) => new(Channel(i));

    public Bulwark.Api.V1.Node.NodeClient Node(int i) => new(Channel(i));

    private GrpcChannel Channel(int i)
    {
        var channel = GrpcChannel.ForAddress(Nodes.ClientUrls[i], new GrpcChannelOptions { MaxSendMessageSize = null, MaxReceiveMessageSize = null });
        channels.Add(channel);
        return channel;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in channels)
        {
            channel.Dispose();
        }

        for (var i = 0; i < Nodes.Size; i++)
        {
            await StopAsync(i);
        }

        await Nodes.DisposeAsync();
    }
}
