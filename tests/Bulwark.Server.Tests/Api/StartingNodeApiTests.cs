using System.Net;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Admin;
using Bulwark.Server.Api;
using Bulwark.Server.Hosting;
using Bulwark.Server.Observability;
using Bulwark.Server.Tests.Hosting;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Server.Tests.Api;

/// <summary>
/// The client API of a member whose node is still starting (`bulwark serve` opens the port before storage open and log
/// replay, see <see cref="NodeSlot"/>): calls are refused "catching up" with the not-proposed trailer, health and
/// readiness say "node not started", and once the node has started the same client channel is served.
/// </summary>
public sealed class StartingNodeApiTests
{
    [Fact]
    public async Task A_member_still_opening_its_storage_answers_catching_up_and_not_ready_then_serves_on_the_same_channel()
    {
        await using var cluster = new LocalCluster(1, adjust: options => options with
        {
            Observer = new NodeObservability(options.NodeId, options.InitialCluster, options.DataDir, options.HeartbeatInterval, options.ElectionTimeout,
                NullLoggerFactory.Instance),
        });
        var options = cluster.Options[0];
        var observability = (NodeObservability)options.Observer!;
        var adminUrl = $"http://127.0.0.1:{LoopbackPorts.Next()}";
        var slot = new NodeSlot(options);
        await using var app = ServerHost.Build(slot, [cluster.ClientUrls[0]]);
        await app.StartAsync();
        await using var admin = AdminServer.Build(observability, adminUrl);
        await admin.StartAsync();

        using var held = new HeldFileSystem();
        var starting = Task.Run(() => NodeHost.Start(options, NullLoggerFactory.Instance, fileSystem: held));
        NodeHost? node = null;
        try
        {
            await held.Reached.WaitAsync(LocalCluster.Patience);
            using var channel = GrpcChannel.ForAddress(cluster.ClientUrls[0]);
            var kv = new KV.KVClient(channel);

            var refused = await Assert.ThrowsAsync<RpcException>(() => kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k") }).ResponseAsync);
            AssertCatchingUp(refused);
            var putRefused = await Assert.ThrowsAsync<RpcException>(() =>
                kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") }).ResponseAsync);
            AssertCatchingUp(putRefused);
            var status = await Assert.ThrowsAsync<RpcException>(() => new Maintenance.MaintenanceClient(channel).StatusAsync(new StatusRequest()).ResponseAsync);
            AssertCatchingUp(status);
            using (var watch = new Watch.WatchClient(channel).Watch())
            {
                // A stream is refused the same way: the first read ends the call with the status.
                var streamRefused = await Assert.ThrowsAsync<RpcException>(() => watch.ResponseStream.MoveNext());
                AssertCatchingUp(streamRefused);
            }

            using var http = new HttpClient();
            var health = await http.GetAsync(new Uri(cluster.ClientUrls[0] + "/health"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.Contains("node not started", await health.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            var ready = await http.GetAsync(new Uri(adminUrl + "/readyz"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal("node not started\n", await ready.Content.ReadAsStringAsync());
            Assert.False(starting.IsCompleted, "the node started while its storage was held");

            held.Release();
            node = await starting.WaitAsync(LocalCluster.Patience);
            slot.Fill(node);
            observability.Attach(node);

            // The lone member elects itself an election timeout after its start: wait for that, then one put must do.
            await LocalCluster.EventuallyAsync(() => HealthCheck.Ready(node.Status).Healthy, "the member to be ready");
            await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") },
                deadline: DateTime.UtcNow + LocalCluster.Patience);

            var got = await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k") });
            Assert.Equal("v", got.Kvs.Single().Value.ToStringUtf8());
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(cluster.ClientUrls[0] + "/health"))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(adminUrl + "/readyz"))).StatusCode);
        }
        finally
        {
            held.Release();
            node ??= await starting.WaitAsync(LocalCluster.Patience);
            await app.StopAsync();
            await node.DisposeAsync();
            await observability.DisposeAsync();
        }
    }

    private static void AssertCatchingUp(RpcException e)
    {
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Equal(NodeErrorStatus.CatchingUpMessage, e.Status.Detail);
        Assert.Equal("1", e.Trailers.GetValue(NodeErrorStatus.NotProposedTrailer));
    }
}
