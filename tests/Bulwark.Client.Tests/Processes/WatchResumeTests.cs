using Bulwark.Api.Etcdserverpb;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.TestSupport;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Bulwark.Client.Tests.Processes;

/// <summary>
/// The client's watch across a SIGKILL of the member it is on: with numbered keys written all along, the events it
/// delivers are exactly the history (no gap, no duplicate, in order).
/// </summary>
[Collection(ClientProcessCollection.Name)]
public sealed class WatchResumeTests(ITestOutputHelper log)
{
    private const int Writes = 600;

    private sealed record Seen(long Revision, string Key, string Value, Api.Mvccpb.Event.Types.EventType Type);

    [Fact]
    public async Task A_watch_resumes_on_another_member_without_gap_or_duplicate_when_its_member_is_killed()
    {
        await using var cluster = await ProcessCluster.StartAsync();
        var captured = new CapturedLog();
        try
        {
            var leader = await cluster.WaitForLeaderAsync();
            // The watching client lists the leader first: its watch starts there (the worst member to lose).
            var ordered = new[] { leader }.Concat(Enumerable.Range(0, cluster.Size).Where(i => i != leader)).Select(i => cluster.ClientUrls[i]);
            await using var watcher = new BulwarkClient(new BulwarkClientOptions { Endpoints = [.. ordered] }, captured);
            await using var writer = new BulwarkClient(new BulwarkClientOptions { Endpoints = [.. cluster.ClientUrls] });
            var start = await writer.PutAsync("wr-start", "0");

            using var stop = new CancellationTokenSource();
            var received = new List<Seen>();
            var watching = Collect(watcher, start.Header.Revision + 1, received, stop.Token);

            long last = 0;
            for (var i = 0; i < Writes;)
            {
                if (i == Writes / 3 && cluster.IsRunning(leader))
                {
                    await cluster.KillAsync(leader);
                    log.WriteLine($"killed {cluster.Names[leader]}, the watched member, after {i} writes");
                }

                try
                {
                    var put = await writer.PutAsync($"wr/{i:D5}", $"v{i}");
                    last = Math.Max(last, put.Header.Revision);
                    i++;
                }
                catch (RpcException)
                {
                    // Outcome unknown (it may still be applied, and is then in the history too): write it again.
                    await Task.Delay(50);
                }
            }

            // The history, read on a survivor by a plain watch that never failed.
            var survivor = cluster.Running.First();
            var history = await HistoryAsync(cluster.ClientUrls[survivor], start.Header.Revision + 1, last);
            Assert.True(history.Count >= Writes, $"history has {history.Count} events");

            await Eventually.TrueAsync(() => Snapshot(received).Any(e => e.Revision >= last), $"the watcher to reach revision {last}", diagnostics: () => captured + Environment.NewLine + cluster.Logs());
            await stop.CancelAsync();
            await watching;
            var delivered = Snapshot(received).TakeWhile(e => e.Revision <= last).ToList();
            log.WriteLine($"{delivered.Count} events delivered, history {history.Count}; client log:{Environment.NewLine}{captured}");
            Assert.Equal(history, delivered);
            Assert.True(captured.Has("WatchResuming"), "the watch never had to resume");
        }
        catch
        {
            log.WriteLine(captured.ToString());
            log.WriteLine(cluster.Logs());
            throw;
        }
    }

    private static Task Collect(BulwarkClient client, long from, List<Seen> into, CancellationToken stop) => Task.Run(async () =>
    {
        try
        {
            await foreach (var e in client.WatchAsync("wr/", new WatchOptions(Prefix: true, StartRevision: from), stop))
            {
                lock (into)
                {
                    into.Add(new Seen(e.Revision, e.Kv.Key.ToStringUtf8(), e.Kv.Value.ToStringUtf8(), e.Type));
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    });

    private static List<Seen> Snapshot(List<Seen> seen)
    {
        lock (seen)
        {
            return [.. seen];
        }
    }

    /// <summary>Every event under wr/ from <paramref name="from"/> to <paramref name="to"/>, by a raw gRPC watch on one member.</summary>
    private static async Task<List<Seen>> HistoryAsync(string url, long from, long to)
    {
        using var channel = GrpcChannel.ForAddress(url);
        using var timeout = new CancellationTokenSource(Eventually.DefaultPatience);
        using var call = new Watch.WatchClient(channel).Watch(cancellationToken: timeout.Token);
        await call.RequestStream.WriteAsync(new WatchRequest
        {
            CreateRequest = new WatchCreateRequest
            {
                Key = Google.Protobuf.ByteString.CopyFromUtf8("wr/"),
                RangeEnd = Google.Protobuf.ByteString.CopyFromUtf8("wr0"),
                StartRevision = from,
            },
        });
        var history = new List<Seen>();
        while (await call.ResponseStream.MoveNext(timeout.Token))
        {
            foreach (var e in call.ResponseStream.Current.Events)
            {
                history.Add(new Seen(e.Kv.ModRevision, e.Kv.Key.ToStringUtf8(), e.Kv.Value.ToStringUtf8(), e.Type));
            }

            if (history.Count > 0 && history[^1].Revision >= to)
            {
                break;
            }
        }

        return [.. history.TakeWhile(e => e.Revision <= to)];
    }
}
