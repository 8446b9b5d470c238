using System.Globalization;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.V3Lockpb;
using Bulwark.TestSupport;
using Google.Protobuf;
using Grpc.Core;
using Xunit.Abstractions;

namespace Bulwark.EndToEnd.Tests.Processes;

/// <summary>
/// v3lockpb.Lock across a SIGKILL of the leader on a real 3-process cluster: a client waiting in Lock on the leader sees
/// its call fail, retries on another member with the same lease, and gets the lock once the holder unlocks.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class LockFailoverTests(ITestOutputHelper log)
{
    private static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);

    private static DateTime Deadline() => DateTime.UtcNow + TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_waiter_whose_member_dies_gets_the_lock_on_retry_against_another_member()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var first = (leader + 1) % cluster.Size;
        var second = (leader + 2) % cluster.Size;
        var name = Bytes("lockfail/mutex");
        var holderLease = (await cluster.Lease(first).LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 }, deadline: Deadline())).ID;
        var waiterLease = (await cluster.Lease(first).LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 }, deadline: Deadline())).ID;
        var waiterKey = Bytes("lockfail/mutex/" + waiterLease.ToString("x", CultureInfo.InvariantCulture));
        using var toFirst = Channel(cluster, first);
        using var toSecond = Channel(cluster, second);
        using var toLeader = Channel(cluster, leader);

        var held = await new Bulwark.Api.V3Lockpb.Lock.LockClient(toFirst).LockAsync(new LockRequest { Name = name, Lease = holderLease }, deadline: Deadline());

        // The waiter queues on the leader, which then dies.
        var waiting = new Bulwark.Api.V3Lockpb.Lock.LockClient(toLeader).LockAsync(new LockRequest { Name = name, Lease = waiterLease });
        await Eventually.TrueAsync(async () => (await cluster.Kv(first).RangeAsync(new RangeRequest { Key = waiterKey }, deadline: Deadline())).Count == 1,
            "the waiter's key", diagnostics: cluster.Logs);
        await cluster.KillAsync(leader);
        var failed = await Assert.ThrowsAsync<RpcException>(() => waiting.ResponseAsync);
        log.WriteLine($"the waiter's call on the killed leader failed: {failed.StatusCode} {failed.Status.Detail}");
        await cluster.WaitForLeaderAsync(notLeader: leader);

        // Retry on a surviving member with the same lease: it waits behind the holder, then gets the lock.
        var retry = await Eventually.ValueAsync(
            async () =>
            {
                var call = new Bulwark.Api.V3Lockpb.Lock.LockClient(toFirst).LockAsync(new LockRequest { Name = name, Lease = waiterLease });
                await Eventually.TrueAsync(async () => (await cluster.Kv(first).RangeAsync(new RangeRequest { Key = waiterKey }, deadline: Deadline())).Count == 1,
                    "the retried waiter's key", transient: e => e is RpcException { StatusCode: StatusCode.Unavailable });
                return call;
            },
            "a retried Lock on a surviving member",
            transient: e => e is RpcException { StatusCode: StatusCode.Unavailable },
            diagnostics: cluster.Logs);
        Assert.False(retry.ResponseAsync.IsCompleted, "the retried Lock returned while the holder still held the lock");

        await new Bulwark.Api.V3Lockpb.Lock.LockClient(toSecond).UnlockAsync(new UnlockRequest { Key = held.Key }, deadline: Deadline());
        var got = await retry.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(waiterKey, got.Key);
        var owner = await cluster.Kv(second).RangeAsync(new RangeRequest { Key = waiterKey }, deadline: Deadline());
        Assert.Equal(waiterLease, owner.Kvs.Single().Lease);
        retry.Dispose();
    }

    private static Grpc.Net.Client.GrpcChannel Channel(ProcessCluster cluster, int node) => Grpc.Net.Client.GrpcChannel.ForAddress(cluster.ClientUrls[node]);
}
