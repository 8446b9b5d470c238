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

    private async Task<byte[]> EtcdctlBytesAsync(string[] args)
    {
        using var process = Process.Start(Etcdctl.StartInfo(Cluster.ClientUrls[0], ["--command-timeout=30s", .. args]))!;
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
