using System.CommandLine;
using System.Text.Json;
using Bulwark.Cli;
using Bulwark.Server.Hosting;
using Bulwark.EndToEnd.Tests.Processes;

namespace Bulwark.EndToEnd.Tests.Cli;

/// <summary>`bulwark put/get/del/txn/status` run in-process against a real 3-process cluster.</summary>
[Collection(ProcessCollection.Name)]
public sealed class CliCommandTests(SharedCluster shared)
{
    private ProcessCluster Cluster => shared.Cluster;

    [Fact]
    public async Task PutGetAndDelPrintWhatEtcdctlPrints()
    {
        Assert.Equal((0, "OK\n"), await Ok("put", "cli/basic/a", "one"));
        Assert.Equal((0, "OK\n"), await Ok("put", "cli/basic/b", "two"));
        Assert.Equal((0, "cli/basic/a\none\n"), await Ok("get", "cli/basic/a"));
        Assert.Equal((0, "cli/basic/a\none\ncli/basic/b\ntwo\n"), await Ok("get", "cli/basic/", "--prefix"));
        Assert.Equal((0, ""), await Ok("get", "cli/missing"));
        Assert.Equal((0, "1\n"), await Ok("del", "cli/basic/a"));
        Assert.Equal((0, "cli/basic/b\ntwo\n"), await Ok("get", "cli/basic/", "--prefix", "--serializable"));
        Assert.Equal((0, "1\n"), await Ok("del", "cli/basic/", "--prefix"));
    }

    [Fact]
    public async Task GetAtRevisionReadsHistory()
    {
        // JSON as etcdctl prints it: the response header, snake_case fields, base64 keys and values.
        var first = JsonDocument.Parse((await Ok("put", "cli/rev", "v1", "--json")).Output).RootElement.GetProperty("header").GetProperty("revision").GetInt64();
        await Ok("put", "cli/rev", "v2");
        Assert.Equal((0, "cli/rev\nv1\n"), await Ok("get", "cli/rev", "--rev", first.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var json = JsonDocument.Parse((await Ok("get", "cli/rev", "--json")).Output).RootElement;
        var kv = Assert.Single(json.GetProperty("kvs").EnumerateArray());
        Assert.Equal("v2", System.Text.Encoding.UTF8.GetString(kv.GetProperty("value").GetBytesFromBase64()));
        Assert.Equal(first, kv.GetProperty("create_revision").GetInt64());
        Assert.Equal(2, kv.GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task TxnFromArgumentsAndFromStdin()
    {
        await Ok("put", "cli/txn/k", "x");
        Assert.Equal(
            (0, "SUCCESS\n\nOK\n\ncli/txn/k\nx\n"),
            await Ok("txn", "--compare", "value(\"cli/txn/k\") = \"x\"", "--then", "put cli/txn/out \"then branch\"", "--then", "get cli/txn/k", "--else", "put cli/txn/out else"));
        Assert.Equal((0, "cli/txn/out\nthen branch\n"), await Ok("get", "cli/txn/out"));

        var stdin = Console.In;
        try
        {
            Console.SetIn(new StringReader("version(\"cli/txn/k\") > \"5\"\n\nput cli/txn/out then\n\ndel cli/txn/k\n"));
            Assert.Equal((0, "FAILURE\n\n1\n"), await Ok("txn"));
        }
        finally
        {
            Console.SetIn(stdin);
        }

        Assert.Equal((0, ""), await Ok("get", "cli/txn/k"));
        Assert.Equal((0, "cli/txn/out\nthen branch\n"), await Ok("get", "cli/txn/out"));
    }

    [Fact]
    public async Task BadInputNamesWhatIsWrong()
    {
        var (code, _, error) = await Run("txn", "--compare", "size(\"k\") = \"1\"", "--then", "put k v");
        Assert.Equal(2, code);
        Assert.Contains("unknown compare target 'size'", error, StringComparison.Ordinal);
        (code, _, error) = await Run("get", "cli/x", "--endpoints", "127.0.0.1:notaport");
        Assert.Equal(2, code);
        Assert.Contains("'127.0.0.1:notaport' is not an endpoint", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusShowsEveryMemberWithOneLeader()
    {
        var (code, output, error) = await Run("status", "--json", "--endpoints", Cluster.ClientUrls[0]);
        Assert.True(code == 0, error + output);
        var rows = JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();
        Assert.Equal(Cluster.Names, rows.Select(r => r.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
        var leader = Assert.Single(rows, r => r.GetProperty("role").GetString() == "leader").GetProperty("name").GetString();
        foreach (var row in rows)
        {
            var name = row.GetProperty("name").GetString()!;
            Assert.Equal(ClusterMember.IdFromName(name).ToString("x", System.Globalization.CultureInfo.InvariantCulture), row.GetProperty("id").GetString());
            Assert.Equal(Cluster.ClientUrls[Cluster.Names.ToList().IndexOf(name)], row.GetProperty("endpoint").GetString());
            Assert.Equal(leader, row.GetProperty("leader").GetString());
            Assert.Equal("healthy", row.GetProperty("health").GetString());
            Assert.True(row.GetProperty("term").GetUInt64() >= 1);
            Assert.True(row.GetProperty("appliedIndex").GetUInt64() >= 1);

            // Each real `bulwark serve` member answers with its view of the other two (bulwark.v1.Node.Peers).
            Assert.Equal(JsonValueKind.Null, row.GetProperty("peersUnavailable").ValueKind);
            var peers = row.GetProperty("peers").EnumerateArray().ToList();
            Assert.Equal(Cluster.Names.Where(n => n != name), peers.Select(p => p.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
            // Every member judges both peers: the leader by their messages, a follower its leader by messages and its
            // fellow follower by its own connection to it.
            Assert.Equal(2, peers.Count(p => p.GetProperty("judged").GetBoolean()));
            Assert.All(peers, p => Assert.Contains(p.GetProperty("state").GetString(), new[] { "UP", "SUSPECT", "DOWN" }));

            // No alarm is active (a member that does not serve Maintenance.Alarm says so instead).
            var alarms = row.GetProperty("alarms");
            Assert.True(alarms.ValueKind == JsonValueKind.Null ? row.GetProperty("alarmsUnavailable").GetString() is not null : alarms.GetArrayLength() == 0, row.ToString());
        }

        (code, output, _) = await Run("status", "--endpoints", Cluster.Endpoints);
        Assert.Equal(0, code);
        // The member table, a blank line, the peer table (one line per member and peer), a blank line, the alarms.
        var sections = output.TrimEnd('\n').Split("\n\n");
        Assert.Equal(3, sections.Length);
        var lines = sections[0].Split('\n');
        Assert.StartsWith("NAME", lines[0], StringComparison.Ordinal);
        Assert.Equal(Cluster.Size + 1, lines.Length);
        var peerLines = sections[1].Split('\n');
        Assert.StartsWith("OBSERVER  PEER  STATE", peerLines[0], StringComparison.Ordinal);
        Assert.Equal((Cluster.Size * (Cluster.Size - 1)) + 1, peerLines.Length);
        Assert.StartsWith("alarms: ", sections[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusMarksAnUnreachableMemberDown()
    {
        // A port nobody listens on stands in for a dead member; the real members are still listed.
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var deadPort = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var (code, output, _) = await Run("status", "--json", "--timeout", "3", "--endpoints", $"127.0.0.1:{deadPort},{Cluster.ClientUrls[1]}");
        Assert.Equal(1, code);
        var rows = JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();
        Assert.Equal(Cluster.Size + 1, rows.Count);
        var down = Assert.Single(rows, r => r.GetProperty("health").GetString()!.StartsWith("down", StringComparison.Ordinal));
        Assert.Equal($"http://127.0.0.1:{deadPort}", down.GetProperty("endpoint").GetString());
        Assert.Equal(Cluster.Size, rows.Count(r => r.GetProperty("health").GetString() == "healthy"));
    }

    [Fact]
    public async Task TheBulwarkExecutableWritesReadsAndRunsATxnFromStdin()
    {
        Assert.Equal((0, "OK\n"), await RunProcess(null, "put", "cli/exe/k", "from the executable"));
        Assert.Equal((0, "SUCCESS\n\ncli/exe/k\nfrom the executable\n"), await RunProcess("value(\"cli/exe/k\") = \"from the executable\"\n\nget cli/exe/k\n\n\n", "txn"));
    }

    private async Task<(int Code, string Output)> RunProcess(string? stdin, params string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo(ProcessCluster.DotnetHost)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { ProcessCluster.BulwarkDll }.Concat(args).Concat(["--endpoints", Cluster.Endpoints]))
        {
            info.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(stdin ?? "");
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(ProcessCluster.Patience);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"bulwark {string.Join(' ', args)} exited {process.ExitCode}: {await error}");
        return (process.ExitCode, await output);
    }

    private async Task<(int Code, string Output)> Ok(params string[] args)
    {
        var (code, output, error) = await Run(args);
        Assert.True(code == 0, $"bulwark {string.Join(' ', args)} exited {code}: {error}");
        return (code, output);
    }

    private async Task<(int Code, string Output, string Error)> Run(params string[] args)
    {
        var all = args.Contains("--endpoints") ? args : [.. args, "--endpoints", Cluster.Endpoints];
        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter { NewLine = "\n" };
        var code = await Program.RunAsync(all, new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }
}
