using System.Diagnostics;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Google.Protobuf;
using Grpc.Core;
using Xunit.Abstractions;

namespace Bulwark.EndToEnd.Tests.Processes;

/// <summary>
/// Leases on a real 3-process cluster across a SIGKILL of the leader: a lease a client keeps alive keeps its keys
/// through the failover; a lease left alone expires, never before its TTL after its last keep-alive, and a watcher
/// sees its keys deleted.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class LeaseFailoverTests(ITestOutputHelper log)
{
    private const long Ttl = 5;
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_kept_lease_survives_a_leader_kill_and_an_abandoned_one_expires_no_earlier_than_its_ttl()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        try
        {
            var leader = await cluster.WaitForLeaderAsync();
            var watcherNode = (leader + 1) % cluster.Size;
            var kept = await Lease(cluster, watcherNode).LeaseGrantAsync(new LeaseGrantRequest { TTL = Ttl }, deadline: Deadline());
            await cluster.Kv(watcherNode).PutAsync(Put("lf/kept", kept.ID), deadline: Deadline());

            using var stop = new CancellationTokenSource();
            var keeper = KeepAliveAsync(cluster, kept.ID, stop.Token);
            await cluster.KillAsync(leader);
            log.WriteLine($"killed leader {cluster.Names[leader]}");
            await cluster.WaitForLeaderAsync(notLeader: leader);

            // Granted after the failover and kept alive once: from that keep-alive on it is left alone.
            using var watch = cluster.Watch(watcherNode).Watch();
            await watch.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = Bytes("lf/left"), RangeEnd = Bytes("lf/lefu") } });
            await NextAsync(watch);
            var left = await Lease(cluster, watcherNode).LeaseGrantAsync(new LeaseGrantRequest { TTL = Ttl }, deadline: Deadline());
            await cluster.Kv(watcherNode).PutAsync(Put("lf/left", left.ID), deadline: Deadline());
            Assert.Equal(Event.Types.EventType.Put, (await NextAsync(watch)).Events.Single().Type);
            var sinceKeepAlive = Stopwatch.StartNew();
            using (var once = Lease(cluster, watcherNode).LeaseKeepAlive())
            {
                await once.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = left.ID });
                Assert.True(await once.ResponseStream.MoveNext());
                Assert.Equal(Ttl, once.ResponseStream.Current.TTL);
                await once.RequestStream.CompleteAsync();
            }

            var deleted = await NextAsync(watch);
            var lived = sinceKeepAlive.Elapsed;
            Assert.Equal(Event.Types.EventType.Delete, deleted.Events.Single().Type);
            log.WriteLine($"the abandoned lease's key was deleted {lived.TotalMilliseconds:F0} ms after its last keep-alive was sent (TTL {Ttl} s)");
            Assert.True(lived >= TimeSpan.FromSeconds(Ttl), $"expired after {lived.TotalMilliseconds:F0} ms, before its {Ttl} s TTL");
            Assert.True(lived < TimeSpan.FromSeconds(Ttl + 20), $"expired only after {lived.TotalMilliseconds:F0} ms");

            // By now the kept lease has lived well past its TTL since the kill: its key must still be there.
            var range = await cluster.Kv(watcherNode).RangeAsync(new RangeRequest { Key = Bytes("lf/kept") }, deadline: Deadline());
            Assert.Equal(kept.ID, range.Kvs.Single().Lease);
            await stop.CancelAsync();
            Assert.True(await keeper > 0);
        }
        catch
        {
            log.WriteLine(cluster.Logs());
            throw;
        }
    }

    /// <summary>Keeps a lease alive once a second through whichever member answers; returns the keep-alives answered.</summary>
    private static async Task<int> KeepAliveAsync(ProcessCluster cluster, long id, CancellationToken stop)
    {
        int answered = 0;
        for (int n = 0; !stop.IsCancellationRequested; n++)
        {
            var node = cluster.Running.ElementAt(n % cluster.Running.Count());
            try
            {
                using var call = Lease(cluster, node).LeaseKeepAlive(deadline: Deadline(), cancellationToken: stop);
                await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = id }, stop);
                if (await call.ResponseStream.MoveNext(stop))
                {
                    Assert.True(call.ResponseStream.Current.TTL > 0, "the kept lease was lost");
                    answered++;
                }

                await call.RequestStream.CompleteAsync();
            }
            catch (RpcException)
            {
                continue; // that member is dead or has no leader yet: try the next one at once
            }
            catch (OperationCanceledException)
            {
                break;
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return answered;
    }

    private static async Task<WatchResponse> NextAsync(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call)
    {
        using var deadline = new CancellationTokenSource(ProcessCluster.Patience);
        Assert.True(await call.ResponseStream.MoveNext(deadline.Token), "the watch stream ended");
        return call.ResponseStream.Current;
    }

    private static Lease.LeaseClient Lease(ProcessCluster cluster, int i) => cluster.Lease(i);

    private static DateTime Deadline() => DateTime.UtcNow + CallTimeout;

    private static PutRequest Put(string key, long lease) => new() { Key = Bytes(key), Value = Bytes("v"), Lease = lease };

    private static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);
}
