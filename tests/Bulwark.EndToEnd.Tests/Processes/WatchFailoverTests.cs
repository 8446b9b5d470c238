using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Google.Protobuf;
using Grpc.Core;
using Xunit.Abstractions;

namespace Bulwark.EndToEnd.Tests.Processes;

/// <summary>
/// Watches on a real 3-process cluster while the leader is killed with SIGKILL under 1,000 writes: a watcher on a
/// follower and a watcher on the leader (which must reconnect to another member with start_revision = last seen + 1)
/// each receive every revision of the final history exactly once, in order.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class WatchFailoverTests(ITestOutputHelper log)
{
    private const int Writes = 1000;
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);
    private static readonly ByteString Prefix = ByteString.CopyFromUtf8("wf/");
    private static readonly ByteString PrefixEnd = ByteString.CopyFromUtf8("wf0");

    [Fact]
    public async Task Watchers_receive_every_revision_exactly_once_across_a_leader_kill()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        try
        {
            var leader = await cluster.WaitForLeaderAsync();
            var follower = (leader + 1) % cluster.Size;
            var start = await cluster.Kv(leader).PutAsync(Put("wf-start", "0"), deadline: Deadline());
            using var stop = new CancellationTokenSource();
            var onFollower = new ResumingWatcher(cluster, follower, start.Header.Revision + 1);
            var onLeader = new ResumingWatcher(cluster, leader, start.Header.Revision + 1);
            var watching = new[] { onFollower.RunAsync(stop.Token), onLeader.RunAsync(stop.Token) };

            long last = 0;
            int acknowledged = 0;
            bool killed = false;
            for (int n = 0; acknowledged < Writes; n++)
            {
                if (!killed && acknowledged == Writes / 3)
                {
                    await cluster.KillAsync(leader);
                    killed = true;
                    log.WriteLine($"killed leader {cluster.Names[leader]} after {acknowledged} writes");
                }

                var node = cluster.Running.ElementAt(n % cluster.Running.Count());
                try
                {
                    var put = await cluster.Kv(node).PutAsync(Put($"wf/{acknowledged:D5}", $"v{n}"), deadline: Deadline());
                    last = Math.Max(last, put.Header.Revision);
                    acknowledged++;
                }
                catch (RpcException)
                {
                    await Task.Delay(20); // outcome unknown: it may be applied, and then it is in the history as well
                }
            }

            // The final history of the prefix, read by a fresh watcher from the start on a surviving member.
            var survivor = cluster.Running.First();
            var final = new ResumingWatcher(cluster, survivor, start.Header.Revision + 1);
            var history = await final.CollectUntilAsync(last);
            log.WriteLine($"{acknowledged} writes acknowledged; history holds {history.Count} events up to revision {last}");
            Assert.True(history.Count >= Writes);

            await onFollower.WaitForAsync(last);
            await onLeader.WaitForAsync(last);
            await stop.CancelAsync();
            await Task.WhenAll(watching);
            Assert.Equal(history, onFollower.Received.TakeWhile(e => e.Revision <= last));
            Assert.Equal(history, onLeader.Received.TakeWhile(e => e.Revision <= last));
            Assert.True(onLeader.Reconnects >= 1, "the watcher on the killed leader never had to reconnect");
        }
        catch
        {
            log.WriteLine(cluster.Logs());
            throw;
        }
    }

    private static DateTime Deadline() => DateTime.UtcNow + CallTimeout;

    private static PutRequest Put(string key, string value) => new() { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) };

    private sealed record Seen(long Revision, string Key, string Value, Event.Types.EventType Type);

    /// <summary>A client watcher that, when its member fails, moves to the next one and resumes at last seen + 1.</summary>
    private sealed class ResumingWatcher(ProcessCluster cluster, int first, long startRevision)
    {
        private readonly List<Seen> received = [];
        private long lastSeen = startRevision - 1;

        public int Reconnects { get; private set; }

        public IReadOnlyList<Seen> Received
        {
            get
            {
                lock (received)
                {
                    return [.. received];
                }
            }
        }

        public async Task RunAsync(CancellationToken stop)
        {
            int node = first;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await WatchOnceAsync(node, stop);
                }
                catch (RpcException)
                {
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }

                if (stop.IsCancellationRequested)
                {
                    return;
                }

                Reconnects++;
                node = (node + 1) % cluster.Size;
                await Task.Delay(50, CancellationToken.None);
            }
        }

        public async Task<List<Seen>> CollectUntilAsync(long revision)
        {
            using var stop = new CancellationTokenSource();
            var run = RunAsync(stop.Token);
            await WaitForAsync(revision);
            await stop.CancelAsync();
            await run;
            return [.. Received.TakeWhile(e => e.Revision <= revision)];
        }

        public async Task WaitForAsync(long revision)
        {
            var deadline = DateTime.UtcNow + ProcessCluster.Patience;
            while (Interlocked.Read(ref lastSeen) < revision)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"the watcher saw revisions up to {Interlocked.Read(ref lastSeen)}, not {revision}");
                }

                await Task.Delay(50);
            }
        }

        private async Task WatchOnceAsync(int node, CancellationToken stop)
        {
            if (!cluster.IsRunning(node))
            {
                return;
            }

            using var call = cluster.Watch(node).Watch(cancellationToken: stop);
            await call.RequestStream.WriteAsync(new WatchRequest
            {
                CreateRequest = new WatchCreateRequest { Key = Prefix, RangeEnd = PrefixEnd, StartRevision = Interlocked.Read(ref lastSeen) + 1 },
            }, stop);
            while (await call.ResponseStream.MoveNext(stop))
            {
                var response = call.ResponseStream.Current;
                Assert.False(response.Canceled, $"the watch was canceled: {response.CancelReason} (compact revision {response.CompactRevision})");
                foreach (var ev in response.Events)
                {
                    lock (received)
                    {
                        received.Add(new Seen(ev.Kv.ModRevision, ev.Kv.Key.ToStringUtf8(), ev.Kv.Value.ToStringUtf8(), ev.Type));
                    }

                    Interlocked.Exchange(ref lastSeen, ev.Kv.ModRevision);
                }
            }
        }
    }
}
