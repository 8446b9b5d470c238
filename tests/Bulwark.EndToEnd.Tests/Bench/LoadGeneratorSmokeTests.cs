using System.Diagnostics;
using System.Text.Json;
using Bulwark.Bench.Load;
using Bulwark.EndToEnd.Tests.Processes;
using Xunit.Abstractions;

namespace Bulwark.EndToEnd.Tests.Bench;

/// <summary>
/// The load generator (bench/Bulwark.Bench.Load) against a real 3-process Bulwark cluster: it counts operations, sees
/// no errors and writes JSON that parses. It checks that the tool works, never how fast anything is.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class LoadGeneratorSmokeTests(SharedCluster shared, ITestOutputHelper log)
{
    private ProcessCluster Cluster => shared.Cluster;

    [Fact]
    public async Task PutsCountExactlyTheOperationBudgetWithoutErrors()
    {
        var options = Options("smoke-put/") with { Clients = 4, Connections = 2, Workload = Workload.Put, TotalOps = 120 };
        using var runner = new LoadRunner(options);

        var result = await runner.RunAsync();

        Assert.Equal(120, result.Ops);
        Assert.Equal(0, result.Errors);
        Assert.Empty(result.ErrorsByKind);
        Assert.True(result.LatencyMs.P50 > 0 && result.LatencyMs.P50 <= result.LatencyMs.P99 && result.LatencyMs.P99 <= result.LatencyMs.Max);
    }

    [Fact]
    public async Task MixedLinearizableAndSerializableReadsFindThePreloadedKeys()
    {
        foreach (var consistency in new[] { ReadConsistency.Linearizable, ReadConsistency.Serializable })
        {
            var options = Options("smoke-mix/") with
            {
                Clients = 3, Workload = Workload.Mix, ReadPercent = 50, Consistency = consistency, TotalOps = 90, Preload = true, KeySpace = 30,
            };
            using var runner = new LoadRunner(options);

            var result = await runner.RunAsync();

            Assert.Equal(90, result.Ops);
            Assert.Equal(0, result.Errors);
        }

        // The preload wrote every key of the space.
        var range = await Cluster.Kv(0).RangeAsync(new Bulwark.Api.Etcdserverpb.RangeRequest
        {
            Key = Google.Protobuf.ByteString.CopyFromUtf8("smoke-mix/"),
            RangeEnd = KeySpace.PrefixEnd("smoke-mix/"),
            CountOnly = true,
        });
        Assert.Equal(30, range.Count);
    }

    [Fact]
    public async Task OpenLoopRunsItsScheduleWithoutErrors()
    {
        var options = Options("smoke-open/") with { Clients = 2, Workload = Workload.Put, Rate = 40, Duration = TimeSpan.FromSeconds(1) };
        using var runner = new LoadRunner(options);

        var result = await runner.RunAsync();

        // 40/s for 1 s over 2 clients is 40 scheduled sends; each completes (late or not) and is counted once.
        Assert.Equal(40, result.Ops);
        Assert.Equal(0, result.Errors);
        Assert.Equal(40, result.TargetRate);
    }

    [Fact]
    public async Task CommandLineToolWritesJsonThatParses()
    {
        var dll = LoadToolDll();
        var info = new ProcessStartInfo(ProcessCluster.DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { dll, "--endpoints", Cluster.Endpoints, "--clients", "3", "--conns", "3", "--ops", "60", "--prefix", "smoke-cli/", "--key-size", "20", "--json", "-" })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using (var wait = new CancellationTokenSource(ProcessCluster.Patience))
        {
            await process.WaitForExitAsync(wait.Token);
        }

        log.WriteLine(await stderr);
        var json = await stdout;
        log.WriteLine(json);
        Assert.Equal(0, process.ExitCode);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal(60, root.GetProperty("ops").GetInt64());
        Assert.Equal(0, root.GetProperty("errors").GetInt64());
        Assert.Equal("put", root.GetProperty("workload").GetString());
        Assert.True(root.GetProperty("latencyMs").GetProperty("p99").GetDouble() > 0);
    }

    [Fact]
    public void BadArgumentsAreRejectedNamingTheFlag()
    {
        var e = Assert.Throws<ArgumentException>(() => LoadArguments.Parse(["--endpoints", "http://127.0.0.1:1", "--workload", "scan"]));
        Assert.Contains("--workload", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => LoadArguments.Parse(["--clients", "2"]));
        Assert.Contains("--endpoints", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => LoadArguments.Parse(["--endpoints", "http://127.0.0.1:1", "--key-size", "3", "--key-space", "10000"]));
        Assert.Contains("--key-size", e.Message, StringComparison.Ordinal);
    }

    /// <summary>The tool in its own build output (its deps.json matches only there); the project reference builds it first.</summary>
    private static string LoadToolDll()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Release";
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Bulwark.slnx")))
            {
                var dll = Path.Combine(dir.FullName, "bench", "Bulwark.Bench.Load", "bin", configuration, "net10.0", "bulwark-load.dll");
                Assert.True(File.Exists(dll), $"{dll} is missing; build bench/Bulwark.Bench.Load -c {configuration}");
                return dll;
            }
        }

        throw new FileNotFoundException("Bulwark.slnx not found above the test output; cannot locate bulwark-load.dll");
    }

    private LoadOptions Options(string prefix) => new()
    {
        Endpoints = Cluster.ClientUrls,
        KeyPrefix = prefix,
        KeySize = 24,
        ValueSize = 64,
        KeySpace = 100,
        CallTimeout = ProcessCluster.Patience,
    };
}
