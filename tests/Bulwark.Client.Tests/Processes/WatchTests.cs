using Bulwark.Api.Etcdserverpb;
using Bulwark.TestSupport;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Bulwark.Client.Tests.Processes;

/// <summary>The client's watch against a real server: every change in order, and a clear error for a compacted start.</summary>
public abstract class WatchTests(Backends backends, Server server, ITestOutputHelper log)
{
    private readonly Target target = new(backends, server);

    [Fact]
    public async Task A_prefix_watch_delivers_every_change_once_in_order()
    {
        var prefix = Target.Unique("watch") + "/";
        await using var client = target.Client();
        var start = await client.PutAsync(prefix + "start", "0");
        using var stop = new CancellationTokenSource(Eventually.DefaultPatience);
        var events = new List<WatchEvent>();
        var expected = new List<long>();
        var watching = Task.Run(async () =>
        {
            await foreach (var e in client.WatchAsync(prefix, new WatchOptions(Prefix: true, StartRevision: start.Header.Revision + 1, PrevKv: true), stop.Token))
            {
                events.Add(e);
                if (events.Count == 21)
                {
                    return;
                }
            }
        });
        for (var i = 0; i < 20; i++)
        {
            expected.Add((await client.PutAsync(prefix + (i % 5), $"v{i}")).Header.Revision);
        }

        expected.Add((await client.DeleteAsync(prefix + "0")).Header.Revision);
        await watching;
        Assert.Equal(expected, events.Select(e => e.Revision));
        Assert.Equal(Api.Mvccpb.Event.Types.EventType.Delete, events[^1].Type);
        Assert.Equal("v15", events[^1].PrevKv!.Value.ToStringUtf8());
        Assert.Null(events[0].PrevKv);
        log.WriteLine($"{events.Count} events");
    }

    [Fact]
    public async Task Watching_from_a_compacted_revision_throws_a_clear_exception()
    {
        var key = Target.Unique("compacted");
        await using var client = target.Client();
        var first = await client.PutAsync(key, "1");
        var second = await client.PutAsync(key, "2");
        using (var channel = GrpcChannel.ForAddress(target.Endpoints[0]))
        {
            await new KV.KVClient(channel).CompactAsync(new CompactionRequest { Revision = second.Header.Revision, Physical = true });
        }

        using var timeout = new CancellationTokenSource(Eventually.DefaultPatience);
        var e = await Assert.ThrowsAsync<WatchCompactedException>(async () =>
        {
            await foreach (var _ in client.WatchAsync(key, new WatchOptions(StartRevision: first.Header.Revision), timeout.Token))
            {
            }
        });
        log.WriteLine(e.Message);
        Assert.Equal(first.Header.Revision, e.RequestedRevision);
        Assert.True(e.CompactRevision >= second.Header.Revision);
    }
}

[Collection(ClientProcessCollection.Name)]
public sealed class WatchTestsOnBulwark(Backends backends, ITestOutputHelper log) : WatchTests(backends, Server.Bulwark, log);

[Collection(ClientProcessCollection.Name)]
public sealed class WatchTestsOnEtcd(Backends backends, ITestOutputHelper log) : WatchTests(backends, Server.Etcd, log);
