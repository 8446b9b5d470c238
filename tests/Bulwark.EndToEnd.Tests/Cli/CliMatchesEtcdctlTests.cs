using System.Diagnostics;
using System.Text;
using Bulwark.EndToEnd.Tests.Compatibility;
using Bulwark.EndToEnd.Tests.Processes;

namespace Bulwark.EndToEnd.Tests.Cli;

/// <summary>
/// `bulwark get` and the real etcdctl, asked the same thing of the same member, print the same bytes: raw simple
/// output, --hex, -w json (base64 keys and values, the header), --keys-only, --limit, sorting, ranges, and
/// get "" --prefix (the Debian etcdctl is 3.4, which has no --count-only). Keys and values hold invalid UTF-8, NUL
/// and newlines.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class CliMatchesEtcdctlTests(SharedCluster shared)
{
    private ProcessCluster Cluster => shared.Cluster;

    [Fact]
    public async Task Get_prints_what_etcdctl_prints()
    {
        var prefix = $"cli/etcdctl/{Guid.NewGuid():N}/";
        var prefixHex = Convert.ToHexString(Encoding.UTF8.GetBytes(prefix));
        var pairs = new (string Key, string Value)[] { ("01feff", "00c328ff0a"), ("0a00", "6f6e65"), ("61", ""), ("62ff", "0a0a") };
        foreach (var (key, value) in pairs)
        {
            var (code, _, error) = await BulwarkProcess.RunAsync(null, ["put", "--hex", prefixHex + key, value, "--endpoints", Cluster.ClientUrls[0]]);
            Assert.True(code == 0, error);
        }

        string[][] queries =
        [
            [prefix, "--prefix"],
            [prefix, "--prefix", "-w", "json"],
            [prefix, "--prefix", "--keys-only"],
            [prefix, "--prefix", "--keys-only", "-w", "json"],
            [prefix, "--prefix", "--limit", "2", "-w", "json"],
            [prefix, "--prefix", "--sort-by", "VALUE", "--order", "DESCEND"],
            [prefix, "--prefix", "--print-value-only"],
            [prefix + "a", prefix + "c"],
            [prefix + "a", "--from-key", "--limit", "2"],
            ["", "--prefix", "--keys-only", "--limit", "3", "-w", "json"],
        ];
        // etcdctl's --hex is for output only; bulwark's also reads the key as hex.
        var pairsOfQueries = queries.Select(q => (Etcdctl: q, Bulwark: q))
            .Append(([prefix, "--prefix", "--hex"], [prefixHex, "--prefix", "--hex"]))
            .Append(([prefix, "--prefix", "--hex", "-w", "json"], [prefixHex, "--prefix", "--hex", "-w", "json"]));
        foreach (var (query, ours) in pairsOfQueries)
        {
            var etcdctl = await EtcdctlBytesAsync(["get", .. query]);
            var (code, bulwark, error) = await BulwarkProcess.RunAsync(null, ["get", .. ours, "--endpoints", Cluster.ClientUrls[0]]);
            Assert.True(code == 0, error);
            Assert.True(
                etcdctl.AsSpan().SequenceEqual(bulwark),
                $"get {string.Join(' ', query)}:{Environment.NewLine}etcdctl: {Show(etcdctl)}{Environment.NewLine}bulwark: {Show(bulwark)}");
        }
    }

    [Fact]
    public async Task Put_del_and_txn_print_what_etcdctl_prints()
    {
        // Each tool writes its own keys; the outputs match once revisions (one apart) are set aside.
        var id = Guid.NewGuid().ToString("N");
        foreach (var format in new[] { "simple", "json" })
        {
            string Key(string tool) => $"cli/etcdctl/{id}/{format}/{tool[0]}";
            // The first txn takes the then branch (a get and a put), the second the else branch.
            var script = (string tool) => $"value(\"{Key(tool)}\") = \"one\"\n\nget {Key(tool)}\nput {Key(tool)} two\n\nput {Key(tool)} else\n\n";
            foreach (var (args, stdin) in new (Func<string, string[]> Args, Func<string, string?> Stdin)[]
            {
                (t => ["put", Key(t), "one", "-w", format], _ => null),
                (t => ["put", Key(t), "one", "--prev-kv", "-w", format], _ => null),
                (t => ["txn", "-w", format], script),
                (t => ["txn", "-w", format], script),
                (t => ["put", Key(t), "x", "-w", format], _ => null),
                (t => ["del", Key(t), "--prev-kv", "-w", format], _ => null),
                (t => ["del", Key(t), "-w", format], _ => null),
            })
            {
                var input = stdin("etcdctl") is { } e ? Encoding.UTF8.GetBytes(e) : null;
                var etcdctl = Encoding.UTF8.GetString(await EtcdctlBytesAsync(args("etcdctl"), input)).Replace(Key("etcdctl"), "KEY", StringComparison.Ordinal);
                var ours = stdin("bulwark") is { } o ? Encoding.UTF8.GetBytes(o) : null;
                var (code, output, error) = await BulwarkProcess.RunAsync(ours, [.. args("bulwark"), "--endpoints", Cluster.ClientUrls[0]]);
                Assert.True(code == 0, error);
                var bulwark = Encoding.UTF8.GetString(output).Replace(Key("bulwark"), "KEY", StringComparison.Ordinal);
                if (format == "json")
                {
                    etcdctl = Base64Keys(RevisionsAside(etcdctl), Key("etcdctl"));
                    bulwark = Base64Keys(RevisionsAside(bulwark), Key("bulwark"));
                }

                Assert.Equal(etcdctl, bulwark);
            }
        }
    }

    private static string RevisionsAside(string json) => System.Text.RegularExpressions.Regex.Replace(json, "\"(revision|create_revision|mod_revision)\":\\d+", "\"$1\":0");

    private static string Base64Keys(string json, string key) => json.Replace(Convert.ToBase64String(Encoding.UTF8.GetBytes(key)), "KEY", StringComparison.Ordinal);

    private async Task<byte[]> EtcdctlBytesAsync(string[] args, byte[]? stdin = null)
    {
        using var process = Process.Start(Etcdctl.StartInfo(Cluster.ClientUrls[0], ["--command-timeout=30s", .. args]))!;
        await process.StandardInput.BaseStream.WriteAsync(stdin ?? []);
        process.StandardInput.Close();
        using var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ProcessCluster.Patience);
        await process.WaitForExitAsync(timeout.Token);
        await copy;
        Assert.True(process.ExitCode == 0, $"etcdctl {string.Join(' ', args)} exited {process.ExitCode}: {await error}");
        return stdout.ToArray();
    }

    private static string Show(byte[] bytes) => Encoding.UTF8.GetString(bytes).ReplaceLineEndings("⏎") + $" ({Convert.ToHexString(bytes)})";
}
