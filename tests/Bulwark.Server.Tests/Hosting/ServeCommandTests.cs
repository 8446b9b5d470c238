using System.Net;
using System.Net.Sockets;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Cli.Commands;
using Bulwark.Server.Hosting;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>`bulwark serve` in-process: a one-node cluster serving etcd requests, clean stop, and refusals with exit codes.</summary>
public sealed class ServeCommandTests : IDisposable
{
    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "bulwark-serve-" + Guid.NewGuid().ToString("N")[..12]);

    [Fact]
    public async Task Serve_runs_a_node_that_answers_etcd_requests_and_stops_cleanly()
    {
        var (client, peer) = (LoopbackPorts.Next(), LoopbackPorts.Next());
        using var stop = new CancellationTokenSource();
        var run = ServeCommand.RunAsync(
            ["--name", "solo", "--initial-cluster", $"solo=http://127.0.0.1:{peer}", "--listen-client-urls", $"http://127.0.0.1:{client}",
                "--listen-metrics-urls", $"http://127.0.0.1:{LoopbackPorts.Next()}", "--data-dir", dataDir],
            stop.Token);

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{client}");
        var kv = new KV.KVClient(channel);
        PutResponse? put = null;
        await LocalCluster.EventuallyAsync(() =>
        {
            Assert.False(run.IsCompleted, $"serve exited early with {(run.IsCompletedSuccessfully ? run.Result : -1)}");
            try
            {
                put = kv.Put(new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") }, deadline: DateTime.UtcNow.AddSeconds(2));
                return true;
            }
            catch (Grpc.Core.RpcException)
            {
                return false;
            }
        }, "serve accepts a put");
        Assert.True(put!.Header.Revision > 1);
        var got = await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k") });
        Assert.Equal("v", got.Kvs.Single().Value.ToStringUtf8());

        await stop.CancelAsync();
        Assert.Equal(0, await run.WaitAsync(LocalCluster.Patience));
    }

    [Fact]
    public async Task Serve_refuses_bad_configuration_with_exit_code_2()
    {
        Assert.Equal(ServeCommand.ExitBadConfiguration, await ServeCommand.RunAsync(["--no-such-flag", "1"], CancellationToken.None));
        Assert.Equal(ServeCommand.ExitBadConfiguration, await ServeCommand.RunAsync(["--heartbeat-interval", "soon"], CancellationToken.None));
    }

    [Fact]
    public async Task Serve_refuses_corrupt_storage_with_exit_code_3()
    {
        Directory.CreateDirectory(Path.Combine(dataDir, "snap"));
        await File.WriteAllBytesAsync(Path.Combine(dataDir, "snap", "0000000000000005-0000000000000001.snap"), new byte[64]);
        var code = await ServeCommand.RunAsync(
            ["--name", "solo", "--initial-cluster", $"solo=http://127.0.0.1:{LoopbackPorts.Next()}", "--listen-client-urls", $"http://127.0.0.1:{LoopbackPorts.Next()}",
                "--listen-metrics-urls", $"http://127.0.0.1:{LoopbackPorts.Next()}", "--data-dir", dataDir],
            CancellationToken.None);
        Assert.Equal(ServeCommand.ExitCorruptStorage, code);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(dataDir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

}
