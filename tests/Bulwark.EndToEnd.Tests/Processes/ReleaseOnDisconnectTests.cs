using System.Diagnostics;
using System.Globalization;
using Bulwark.Api.Etcdserverpb;
using Bulwark.TestSupport;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Bulwark.EndToEnd.Tests.Processes;

/// <summary>
/// Release on disconnect on a real 3-process cluster: a keep-alive stream opened with
/// <c>bulwark-lease-release-on-disconnect: 1</c> (here on a follower) binds its leases, and when the client's connection
/// goes away the member revokes them through the log: the key goes long before its 300 s TTL could explain it. The same
/// stream without the header changes nothing (etcd's behaviour), and a member stopped gracefully while holding a bound
/// stream does not revoke (its own shutdown is not the client's departure).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class ReleaseOnDisconnectTests(ITestOutputHelper log)
{
    private const long Ttl = 300;
    private const string Header = "bulwark-lease-release-on-disconnect";

    // Well below the TTL: a key gone within this is gone by the revoke, never by expiry.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);

    private static DateTime Deadline() => DateTime.UtcNow + TimeSpan.FromSeconds(10);

    /// <summary>A client with its own connection to <paramref name="url"/>, keeping <paramref name="leaseId"/> alive on one stream.</summary>
    private static async Task<GrpcChannel> KeepAliveFromOwnConnectionAsync(string url, long leaseId, bool releaseOnDisconnect)
    {
        var channel = GrpcChannel.ForAddress(url, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler() });
        var headers = releaseOnDisconnect ? new Metadata { { Header, "1" } } : new Metadata();
        var stream = new Lease.LeaseClient(channel).LeaseKeepAlive(headers);
        await stream.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = leaseId });
        Assert.True(await stream.ResponseStream.MoveNext(), "the keep-alive stream answered nothing");
        Assert.Equal(Ttl, stream.ResponseStream.Current.TTL);
        return channel; // the stream stays open until the channel's connection is torn down
    }

    private static async Task<long> GrantWithKeyAsync(ProcessCluster cluster, int node, string key)
    {
        var lease = await cluster.Lease(node).LeaseGrantAsync(new LeaseGrantRequest { TTL = Ttl }, deadline: Deadline());
        await cluster.Kv(node).PutAsync(new PutRequest { Key = Bytes(key), Value = Bytes("held"), Lease = lease.ID }, deadline: Deadline());
        return lease.ID;
    }

    private static async Task<bool> ExistsAsync(ProcessCluster cluster, int node, string key) =>
        (await cluster.Kv(node).RangeAsync(new RangeRequest { Key = Bytes(key) }, deadline: Deadline())).Count == 1;

    private static async Task<long> RemainingAsync(ProcessCluster cluster, int node, long leaseId) =>
        (await cluster.Lease(node).LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = leaseId }, deadline: Deadline())).TTL;

    [Fact]
    public async Task A_bound_lease_is_revoked_when_its_client_goes_away_and_an_unbound_one_is_not()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var follower = (leader + 1) % cluster.Size;
        var bound = await GrantWithKeyAsync(cluster, follower, "rod/bound");
        var unbound = await GrantWithKeyAsync(cluster, follower, "rod/unbound");

        var boundClient = await KeepAliveFromOwnConnectionAsync(cluster.ClientUrls[follower], bound, releaseOnDisconnect: true);
        var unboundClient = await KeepAliveFromOwnConnectionAsync(cluster.ClientUrls[follower], unbound, releaseOnDisconnect: false);
        Assert.True(await RemainingAsync(cluster, leader, bound) > 0);

        // Both clients vanish at once: their connections close under their open streams.
        var gone = Stopwatch.StartNew();
        boundClient.Dispose();
        unboundClient.Dispose();

        await Eventually.TrueAsync(async () => !await ExistsAsync(cluster, leader, "rod/bound"), "the bound lease's key to be deleted", Patience,
            diagnostics: cluster.Logs);
        log.WriteLine($"bound key deleted {gone.ElapsedMilliseconds} ms after its client went away (lease TTL {Ttl} s)");
        Assert.Equal(-1, await RemainingAsync(cluster, leader, bound)); // revoked, not merely its key deleted

        // The unbound lease ran on: its key is there and its TTL still counts down from the last keep-alive.
        Assert.True(await ExistsAsync(cluster, leader, "rod/unbound"));
        Assert.True(await RemainingAsync(cluster, leader, unbound) > 0);

        var metrics = await new HttpClient().GetStringAsync(cluster.MetricsUrls[follower] + "/metrics");
        Assert.Contains("bulwark_lease_released_on_disconnect_total 1", metrics, StringComparison.Ordinal);
        Assert.Contains(bound.ToString("x", CultureInfo.InvariantCulture), string.Join('\n', cluster.StandardOutput(follower)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_stopped_gracefully_does_not_revoke_the_leases_bound_to_its_streams()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var holder = (leader + 1) % cluster.Size;
        var other = (leader + 2) % cluster.Size;
        var bound = await GrantWithKeyAsync(cluster, holder, "rod/stop");
        using var client = await KeepAliveFromOwnConnectionAsync(cluster.ClientUrls[holder], bound, releaseOnDisconnect: true);

        using (var term = Process.Start("kill", ["-TERM", cluster.Pid(holder)!.Value.ToString(CultureInfo.InvariantCulture)]))
        {
            await term!.WaitForExitAsync();
        }

        Assert.Equal(0, await cluster.WaitForExitAsync(holder));
        // A write through the leader after the stop, then a linearizable read: a revoke the stopping member had
        // proposed would be ordered before it and seen here.
        await cluster.Kv(leader).PutAsync(new PutRequest { Key = Bytes("rod/after-stop"), Value = Bytes("1") }, deadline: Deadline());
        Assert.True(await ExistsAsync(cluster, other, "rod/stop"), "the member's own shutdown revoked a bound lease");
        Assert.True(await RemainingAsync(cluster, leader, bound) > 0);
        Assert.DoesNotContain("went away", string.Join('\n', cluster.StandardOutput(holder)), StringComparison.Ordinal);
    }
}
