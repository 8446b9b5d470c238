using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Api.Leases;
using Bulwark.Server.Faults;
using Bulwark.Server.Tests.Api;
using Bulwark.Server.Tests.Hosting;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Server.Tests.Faults;

/// <summary>
/// Clock jumps on every member's host clock (what `serve --unsafe-fault-injection` exposes as the clock-jump point):
/// a forward jump far beyond a lease's TTL does not expire it (leases are counted in ticks and a jump gives one tick,
/// not the skipped ones), and a backward jump of the leader, which stalls its ticks, leaves one leader and the lease alive.
/// </summary>
public sealed class ClockJumpLeaseTests
{
    private const long Ttl = 30;
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_forward_jump_beyond_the_ttl_does_not_expire_a_lease_and_a_backward_jump_leaves_one_leader()
    {
        var clocks = Enumerable.Range(0, 3).Select(_ => new JumpableClock()).ToArray();
        await using var cluster = new ApiCluster();
        cluster.Nodes.Clock = i => clocks[i];
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var lease = cluster.Lease(leader);
        var kept = await lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = Ttl }, deadline: Deadline());
        await cluster.Kv(leader).PutAsync(new PutRequest { Key = B("jump/kept"), Value = B("v"), Lease = kept.ID }, deadline: Deadline());

        foreach (var clock in clocks)
        {
            clock.Jump(TimeSpan.FromSeconds(2 * Ttl));
        }

        // A shortest-TTL lease granted after the jump expiring proves the leader's lease keeper has ticked well past it.
        var minTtl = LeaseService.MinTtlSeconds(cluster.Nodes.Node(leader).Options);
        var probe = await lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = minTtl }, deadline: Deadline());
        await Bulwark.TestSupport.Eventually.TrueAsync(
            async () => (await cluster.Lease(cluster.Nodes.Running.First()).LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = probe.ID }, deadline: Deadline())).TTL == -1,
            "the probe lease expired", transient: e => e is RpcException);

        var left = await lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = kept.ID }, deadline: Deadline());
        Assert.True(left.TTL > 0, $"the lease ended after a forward jump of {2 * Ttl} s (TTL left {left.TTL})");
        Assert.Single((await cluster.Kv(leader).RangeAsync(new RangeRequest { Key = B("jump/kept") }, deadline: Deadline())).Kvs);

        // Back: the leader's ticks stop for 3 s (no heartbeats); the others may elect a new leader. One leader results
        // and the lease lives on (a new leader extends every lease by an election timeout on taking over).
        clocks[leader].Jump(TimeSpan.FromSeconds(-3));
        var after = await cluster.Nodes.WaitForLeaderAsync();
        var ttl = await cluster.Lease(after).LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = kept.ID }, deadline: Deadline());
        Assert.True(ttl.TTL > 0, $"the lease ended after the leader's clock jumped back (TTL left {ttl.TTL})");
        Assert.Equal(TimeSpan.FromSeconds(2 * Ttl - 3), clocks[leader].Offset);
    }

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static DateTime Deadline() => DateTime.UtcNow + CallDeadline;
}
