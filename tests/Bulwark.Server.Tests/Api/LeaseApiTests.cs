using System.Diagnostics;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Bulwark.Server.Api.Leases;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Server.Tests.Api;

/// <summary>etcdserverpb.Lease over real gRPC on a 3-node cluster: grants, keep-alives forwarded to the leader, expiry through the log.</summary>
public sealed class LeaseApiTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static Task<WatchResponse> NextAsync(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call) => WatchCalls.NextAsync(call);

    [Fact]
    public async Task Grant_keep_alive_time_to_live_list_and_revoke_through_a_follower_as_etcd()
    {
        await using var cluster = new ApiCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var follower = (leader + 1) % 3;
        // A follower forwards keep-alives and time-to-live to the leader's client URL, which it learns from the log.
        await Hosting.LocalCluster.EventuallyAsync(() => cluster.Nodes.Running.All(i => cluster.Nodes.Node(i).Members.All(m => m.ClientUrls.Count > 0)), "client URLs published");
        var lease = cluster.Lease(follower);

        var granted = await lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 });
        Assert.True(granted.ID > 0);
        Assert.Equal(60, granted.TTL);
        var tiny = await lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 0, ID = 1000 });
        Assert.Equal(1000, tiny.ID);
        Assert.Equal(LeaseService.MinTtlSeconds(cluster.Nodes.Node(follower).Options), tiny.TTL); // etcd's minimum TTL

        var exists = await Assert.ThrowsAsync<RpcException>(() => lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 5, ID = 1000 }).ResponseAsync);
        Assert.Equal("etcdserver: lease already exists", exists.Status.Detail);
        var tooLarge = await Assert.ThrowsAsync<RpcException>(() => lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 9_000_000_001 }).ResponseAsync);
        Assert.Equal("etcdserver: too large lease TTL", tooLarge.Status.Detail);

        var kv = cluster.Kv(follower);
        foreach (var key in new[] { "l/b", "l/a", "l/c" })
        {
            await kv.PutAsync(new PutRequest { Key = B(key), Value = B("v"), Lease = granted.ID });
        }

        var unknown = await Assert.ThrowsAsync<RpcException>(() => kv.PutAsync(new PutRequest { Key = B("l/x"), Lease = 424242 }).ResponseAsync);
        Assert.Equal("etcdserver: requested lease not found", unknown.Status.Detail);

        // Remaining TTL is the leader's; a follower forwards the question.
        var ttl = await lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = granted.ID, Keys = true });
        Assert.Equal(60, ttl.GrantedTTL);
        Assert.InRange(ttl.TTL, 1, 60);
        Assert.Equal(["l/a", "l/b", "l/c"], ttl.Keys.Select(k => k.ToStringUtf8()));
        Assert.Equal(-1, (await lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = 5555 })).TTL);

        using (var keepAlive = lease.LeaseKeepAlive())
        {
            using var deadline = new CancellationTokenSource(Deadline);
            await keepAlive.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = granted.ID });
            Assert.True(await keepAlive.ResponseStream.MoveNext(deadline.Token));
            Assert.Equal(60, keepAlive.ResponseStream.Current.TTL);
            await keepAlive.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = 5555 });
            Assert.True(await keepAlive.ResponseStream.MoveNext(deadline.Token));
            Assert.Equal(0, keepAlive.ResponseStream.Current.TTL); // etcd: an unknown lease keeps alive to TTL 0
            await keepAlive.RequestStream.CompleteAsync();
        }

        await cluster.Nodes.WaitForConvergenceAsync(leader);
        for (int i = 0; i < 3; i++)
        {
            var list = await cluster.Lease(i).LeaseLeasesAsync(new LeaseLeasesRequest());
            Assert.Equal(new[] { granted.ID, 1000 }.Order(), list.Leases.Select(l => l.ID).Order());
        }

        // Revoking deletes every attached key at one revision; a watcher sees the deletes in one response.
        using var watch = cluster.Watch(leader).Watch();
        await watch.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("l/"), RangeEnd = B("l0") } });
        await NextAsync(watch);
        var revoked = await lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = granted.ID });
        var deletes = await NextAsync(watch);
        Assert.Equal(revoked.Header.Revision, deletes.Header.Revision);
        Assert.Equal(["l/a", "l/b", "l/c"], deletes.Events.Select(e => e.Kv.Key.ToStringUtf8()));
        Assert.All(deletes.Events, e => Assert.Equal(Event.Types.EventType.Delete, e.Type));
        var gone = await Assert.ThrowsAsync<RpcException>(() => lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = granted.ID }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
        Assert.Equal("etcdserver: requested lease not found", gone.Status.Detail);
    }

    [Fact]
    public async Task A_lease_left_alone_expires_through_the_log_and_never_before_its_ttl()
    {
        await using var cluster = new ApiCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var follower = (leader + 1) % 3;
        // A follower forwards keep-alives and time-to-live to the leader's client URL, which it learns from the log.
        await Hosting.LocalCluster.EventuallyAsync(() => cluster.Nodes.Running.All(i => cluster.Nodes.Node(i).Members.All(m => m.ClientUrls.Count > 0)), "client URLs published");
        using var watch = cluster.Watch(follower).Watch();
        await watch.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("e/"), RangeEnd = B("e0") } });
        await NextAsync(watch);

        var clock = Stopwatch.StartNew();
        var granted = await cluster.Lease(follower).LeaseGrantAsync(new LeaseGrantRequest { TTL = 2 });
        await cluster.Kv(follower).PutAsync(new PutRequest { Key = B("e/k"), Value = B("v"), Lease = granted.ID });
        Assert.Equal(Event.Types.EventType.Put, (await NextAsync(watch)).Events.Single().Type);

        var expired = await NextAsync(watch);
        var lived = clock.Elapsed;
        Assert.Equal(Event.Types.EventType.Delete, expired.Events.Single().Type);
        Assert.True(lived >= TimeSpan.FromSeconds(granted.TTL), $"the lease expired {lived.TotalMilliseconds:F0} ms after the grant was sent, before its {granted.TTL} s TTL");
        var ttl = await cluster.Lease(follower).LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = granted.ID });
        Assert.Equal(-1, ttl.TTL);
        Assert.Empty((await cluster.Kv(leader).RangeAsync(new RangeRequest { Key = B("e/k") })).Kvs);
    }

    [Fact]
    public async Task A_leader_cut_off_from_the_others_does_not_promise_a_keep_alive()
    {
        ulong isolated = 0;
        bool Cut(Bulwark.Consensus.Message m) => Volatile.Read(ref isolated) is var id && id != 0 && (m.From == id || m.To == id);
        await using var cluster = new ApiCluster(adjust: o => o with { DropPeerMessage = Cut });
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var granted = await cluster.Lease(leader).LeaseGrantAsync(new LeaseGrantRequest { TTL = 30 });
        await Hosting.LocalCluster.EventuallyAsync(() => cluster.Nodes.Node(leader).Leases.IsLeading, "the leader keeps lease deadlines");

        // The leader still believes it leads (check-quorum needs an election timeout to notice); the others will elect
        // a new leader that never hears of a keep-alive the old one answers now.
        Volatile.Write(ref isolated, cluster.Nodes.Node(leader).MemberId);
        using var keepAlive = cluster.Lease(leader).LeaseKeepAlive();
        await keepAlive.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = granted.ID });
        using var deadline = new CancellationTokenSource(Deadline);
        var refused = await Assert.ThrowsAsync<RpcException>(() => keepAlive.ResponseStream.MoveNext(deadline.Token));
        Assert.Contains(refused.StatusCode, new[] { StatusCode.Unavailable, StatusCode.DeadlineExceeded });
    }
}
