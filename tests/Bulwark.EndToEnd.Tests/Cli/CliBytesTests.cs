using System.Globalization;
using System.Text;
using System.Text.Json;
using Bulwark.Cli;
using Bulwark.Cli.Client;
using Bulwark.EndToEnd.Tests.Processes;
using CsCheck;
using Google.Protobuf;

namespace Bulwark.EndToEnd.Tests.Cli;

/// <summary>
/// Keys and values are bytes end to end through the real `bulwark put` and `get` processes against a real cluster:
/// invalid UTF-8, NUL, newlines and empty values come back exactly, whichever way they went in (hex arguments, hex on
/// stdin, a raw --value-file, raw stdin) and whichever way they are printed (raw bytes, --hex, -w json).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class CliBytesTests(SharedCluster shared)
{
    /// <summary>Bytes with the awkward ones (NUL, newline, 0xff, a lone UTF-8 lead byte) more often than chance.</summary>
    private static readonly Gen<byte[]> AwkwardBytes = Gen.Frequency(
        (3, Gen.Byte),
        (1, Gen.OneOf(Gen.Const((byte)0x00), Gen.Const((byte)'\n'), Gen.Const((byte)0xff), Gen.Const((byte)0xc3), Gen.Const((byte)'\\')))).Array[0, 40];

    private static int iteration;

    private ProcessCluster Cluster => shared.Cluster;

    [Fact]
    public async Task Random_bytes_round_trip_through_put_and_get_processes()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await Gen.Select(AwkwardBytes, AwkwardBytes, Gen.Int[0, 3], Gen.Int[0, 2]).SampleAsync(
            async (keyTail, value, putMode, getMode) =>
            {
                // A text prefix unique to this iteration names the key for a raw-output `get PREFIX --prefix`.
                var prefix = Encoding.UTF8.GetBytes($"cli/bytes/{run}/{Interlocked.Increment(ref iteration)}/");
                byte[] key = putMode < 2 ? [.. prefix, .. keyTail] : [.. prefix, .. Encoding.UTF8.GetBytes(Convert.ToHexString(keyTail))];
                await PutAsync(key, value, putMode);
                await AssertGetAsync(prefix, key, value, getMode);
            },
            iter: 30,
            threads: 1,
            print: t => $"key tail {Convert.ToHexString(t.Item1)}, value {Convert.ToHexString(t.Item2)}, put mode {t.Item3}, get mode {t.Item4}");
    }

    /// <summary>
    /// Regression (issue 11): `bulwark put $'\x01\xfe\xff' v` stored \x01\xef\xbf\xbd\xef\xbf\xbd, because .NET decodes argv as
    /// UTF-8 and replaces invalid bytes. Arguments that are not valid UTF-8 now keep the bytes the shell passed.
    /// </summary>
    [Fact]
    public async Task Key_and_value_arguments_that_are_not_utf8_are_stored_as_the_shell_passed_them()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        // A shell builds the raw arguments (a .NET caller could only pass strings): key "cli/raw/<run>/" + 01 fe ff, value fe 76.
        var info = new System.Diagnostics.ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[]
        {
            "-c", $"exec \"$0\" \"$1\" put --endpoints \"$2\" -- \"$(printf 'cli/raw/{run}/\\001\\376\\377')\" \"$(printf '\\376v')\"",
            ProcessCluster.DotnetHost, ProcessCluster.BulwarkDll, Cluster.Endpoints,
        })
        {
            info.ArgumentList.Add(arg);
        }

        using (var put = System.Diagnostics.Process.Start(info)!)
        {
            var error = put.StandardError.ReadToEndAsync();
            var output = await put.StandardOutput.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(ProcessCluster.Patience);
            await put.WaitForExitAsync(timeout.Token);
            Assert.True(put.ExitCode == 0, $"put exited {put.ExitCode}: {output}{await error}");
        }

        var (code, stdout, stderr) = await BulwarkProcess.RunAsync(null, ["get", "--prefix", "--endpoints", Cluster.Endpoints, $"cli/raw/{run}/"]);
        Assert.True(code == 0, stderr);
        byte[] expected = [.. Encoding.UTF8.GetBytes($"cli/raw/{run}/"), 0x01, 0xfe, 0xff, (byte)'\n', 0xfe, (byte)'v', (byte)'\n'];
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(stdout)); // raw bytes out, as etcdctl prints them
    }

    [Fact]
    public async Task A_value_over_the_request_limit_is_refused_with_the_limit_named()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(file, new byte[2 * 1024 * 1024]);
            var (code, output, error) = await BulwarkProcess.RunAsync(null, ["put", "cli/bytes/too-large", "--value-file", file, "--endpoints", Cluster.Endpoints]);
            Assert.Equal(1, code);
            Assert.Empty(output);
            // Over gRPC's frame limit the member answers ResourceExhausted; under it, etcd's "request is too large".
            // Either way the CLI names the setting that governs it.
            Assert.StartsWith("error: ", error, StringComparison.Ordinal);
            Assert.Contains("max-request-bytes, 1.5 MiB unless raised (up to 8 MiB) on every member with --max-request-bytes", error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_2_MB_value_round_trips_when_the_members_allow_it()
    {
        await using var cluster = await ProcessCluster.StartAsync(1, ["--max-request-bytes", (4 * 1024 * 1024).ToString(CultureInfo.InvariantCulture)]);
        var value = new byte[2 * 1024 * 1024];
        new Random(11).NextBytes(value);
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(file, value);
            var (code, output, error) = await BulwarkProcess.RunAsync(null, ["put", "cli/bytes/large", "--value-file", file, "--endpoints", cluster.Endpoints]);
            Assert.True(code == 0, error);
            (code, output, error) = await BulwarkProcess.RunAsync(value, ["put", "cli/bytes/large-stdin", "--endpoints", cluster.Endpoints]);
            Assert.True(code == 0, error);
            (code, output, error) = await BulwarkProcess.RunAsync(null, ["get", "cli/bytes/large", "--prefix", "--print-value-only", "--endpoints", cluster.Endpoints]);
            Assert.True(code == 0, error);
            Assert.Equal([.. value, (byte)'\n', .. value, (byte)'\n'], output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Get_takes_etcdctls_range_flags()
    {
        var p = $"cli/flags/{Guid.NewGuid():N}/";
        foreach (var (k, v) in new[] { ("a", "3"), ("b", "1"), ("c", "5"), ("d", "2"), ("e", "4") })
        {
            Assert.Equal((0, "OK\n"), await Ok("put", p + k, v));
        }

        Assert.Equal((0, $"{p}a\n3\n{p}b\n1\n"), await Ok("get", p, "--prefix", "--limit", "2"));
        Assert.Equal((0, $"{p}a\n\n{p}b\n\n{p}c\n\n{p}d\n\n{p}e\n\n"), await Ok("get", p, "--prefix", "--keys-only"));
        Assert.Equal((0, "5\n"), await Ok("get", p, "--prefix", "--count-only"));
        Assert.Equal((0, "5\n4\n3\n2\n1\n"), await Ok("get", p, "--prefix", "--sort-by", "VALUE", "--order", "DESCEND", "--print-value-only"));
        Assert.Equal((0, $"{p}b\n1\n{p}c\n5\n"), await Ok("get", p + "b", p + "d"));
        Assert.Equal((0, $"{p}c\n5\n{p}d\n2\n{p}e\n4\n"), await Ok("get", p + "c", "--from-key", "--limit", "3"));

        // Every key: etcdctl's get "" --prefix (and --from-key) is the range ["\0", "\0").
        var all = JsonDocument.Parse((await Ok("get", "", "--prefix", "--keys-only", "-w", "json")).Output).RootElement;
        var keys = all.GetProperty("kvs").EnumerateArray().Select(kv => Encoding.UTF8.GetString(kv.GetProperty("key").GetBytesFromBase64())).ToList();
        Assert.Subset(keys.ToHashSet(), new[] { "a", "b", "c", "d", "e" }.Select(k => p + k).ToHashSet());
        Assert.True(all.GetProperty("count").GetInt64() >= 5);
        var count = long.Parse((await Ok("get", "", "--from-key", "--count-only")).Output, CultureInfo.InvariantCulture);
        Assert.True(count >= 5, $"count {count}");

        var revision = JsonDocument.Parse((await Ok("put", p + "a", "changed", "-w", "json")).Output).RootElement.GetProperty("header").GetProperty("revision").GetInt64();
        Assert.Equal((0, "3\n"), await Ok("get", p + "a", "--rev", (revision - 1).ToString(CultureInfo.InvariantCulture), "--print-value-only"));
        Assert.Equal((0, "2\n"), await Ok("del", p + "a", p + "c"));
        Assert.Equal((0, "3\n"), await Ok("del", p, "--prefix"));
    }

    [Fact]
    public async Task Every_kv_command_prints_table_and_json()
    {
        var k = $"cli/formats/{Guid.NewGuid():N}";
        var put = await Ok("put", k, "v", "-w", "table");
        Assert.Matches(@"^REVISION\n\d+\n$", put.Output);
        Assert.Matches($@"^KEY +VALUE +CREATE_REVISION +MOD_REVISION +VERSION +LEASE\n{k} +v +\d+ +\d+ +1 +0\n$", (await Ok("get", k, "-w", "table")).Output);
        Assert.Matches(
            $@"^SUCCEEDED +REVISION\ntrue +\d+\n\nKEY +VALUE +CREATE_REVISION +MOD_REVISION +VERSION +LEASE\n{k} +v +\d+ +\d+ +1 +0\n$",
            (await Ok("txn", "--compare", $"version(\"{k}\") = \"1\"", "--then", $"get {k}", "-w", "table")).Output);
        var txn = JsonDocument.Parse((await Ok("txn", "--then", $"get {k}", "-w", "json")).Output).RootElement;
        Assert.True(txn.GetProperty("succeeded").GetBoolean());
        var range = txn.GetProperty("responses")[0].GetProperty("Response").GetProperty("ResponseRange");
        Assert.Equal("v", Encoding.UTF8.GetString(range.GetProperty("kvs")[0].GetProperty("value").GetBytesFromBase64()));
        Assert.True(txn.GetProperty("header").GetProperty("revision").GetInt64() > 0);
        var del = JsonDocument.Parse((await Ok("del", k, "-w", "json")).Output).RootElement;
        Assert.Equal(1, del.GetProperty("deleted").GetInt64());
        Assert.Matches(@"^DELETED +REVISION\n0 +\d+\n$", (await Ok("del", k, "-w", "table")).Output);
    }

    [Fact]
    public async Task Keys_and_values_starting_with_a_dash_follow_a_double_dash()
    {
        var k = $"-cli/dash/{Guid.NewGuid():N}";
        Assert.Equal(0, (await Program.RunAsync(["put", "--endpoints", Cluster.Endpoints, "--", k, "-v"], Quiet())));
        using var output = new StringWriter { NewLine = "\n" };
        Assert.Equal(0, await Program.RunAsync(["get", "--endpoints", Cluster.Endpoints, "--", k], new System.CommandLine.InvocationConfiguration { Output = output, Error = TextWriter.Null }));
        Assert.Equal($"{k}\n-v\n", output.ToString());
        var (code, _, error) = await Run("get", k);
        Assert.Equal(2, code);
        Assert.Contains("goes after --", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cluster_error_exits_1_and_bad_input_exits_2()
    {
        var (code, output, error) = await Run("get", "cli/exit", "--rev", "999999999");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains("future revision", error, StringComparison.Ordinal);
        (code, _, error) = await Run("get", "cli/exit", "--limit", "many");
        Assert.Equal(2, code);
        Assert.DoesNotContain("System.", error, StringComparison.Ordinal);
        (code, _, _) = await Run("put", "--hex", "6b", "0");
        Assert.Equal(2, code);
    }

    private async Task PutAsync(byte[] key, byte[] value, int mode)
    {
        var hexKey = Convert.ToHexString(key);
        var textKey = Encoding.UTF8.GetString(key);
        string[] args;
        byte[]? stdin = null;
        string? file = null;
        switch (mode)
        {
            case 0: // hex key, hex value argument
                args = ["put", "--hex", hexKey, Convert.ToHexString(value)];
                break;
            case 1 when value.Length > 0: // hex key, hex value on stdin (etcdctl's \xNN form)
                args = ["put", "--hex", hexKey];
                stdin = Encoding.UTF8.GetBytes(KvBytes.ToHex(ByteString.CopyFrom(value)) + "\n");
                break;
            case 2: // text key, raw --value-file
                file = Path.GetTempFileName();
                await File.WriteAllBytesAsync(file, value);
                args = ["put", textKey, "--value-file", file];
                break;
            case 3 when value.Length > 0: // text key, raw stdin
                args = ["put", textKey];
                stdin = value;
                break;
            default: // an empty value is given as "" (empty stdin means no value, as in etcdctl)
                args = ["put", "--hex", hexKey, ""];
                break;
        }

        try
        {
            var (code, output, error) = await BulwarkProcess.RunAsync(stdin, [.. args, "--endpoints", Cluster.Endpoints]);
            Assert.True(code == 0, $"bulwark {string.Join(' ', args)} exited {code}: {error}");
            Assert.Equal("OK\n", Encoding.UTF8.GetString(output));
        }
        finally
        {
            if (file is not null)
            {
                File.Delete(file);
            }
        }
    }

    private async Task AssertGetAsync(byte[] prefix, byte[] key, byte[] value, int mode)
    {
        var textPrefix = Encoding.UTF8.GetString(prefix);
        string[] args = mode switch
        {
            0 => ["get", textPrefix, "--prefix"],
            1 => ["get", "--hex", Convert.ToHexString(prefix), "--prefix"],
            _ => ["get", textPrefix, "--prefix", "-w", "json"],
        };
        var (code, output, error) = await BulwarkProcess.RunAsync(null, [.. args, "--endpoints", Cluster.Endpoints]);
        Assert.True(code == 0, $"bulwark {string.Join(' ', args)} exited {code}: {error}");
        switch (mode)
        {
            case 0:
                Assert.Equal([.. key, (byte)'\n', .. value, (byte)'\n'], output);
                break;
            case 1:
                Assert.Equal($"{KvBytes.ToHex(ByteString.CopyFrom(key))}\n{KvBytes.ToHex(ByteString.CopyFrom(value))}\n", Encoding.UTF8.GetString(output));
                break;
            default:
                var kv = Assert.Single(JsonDocument.Parse(output).RootElement.GetProperty("kvs").EnumerateArray());
                Assert.Equal(key, kv.GetProperty("key").GetBytesFromBase64());
                Assert.Equal(value, kv.TryGetProperty("value", out var v) ? v.GetBytesFromBase64() : []);
                break;
        }
    }

    private static System.CommandLine.InvocationConfiguration Quiet() => new() { Output = TextWriter.Null, Error = TextWriter.Null };

    private async Task<(int Code, string Output)> Ok(params string[] args)
    {
        var (code, output, error) = await Run(args);
        Assert.True(code == 0, $"bulwark {string.Join(' ', args)} exited {code}: {error}");
        return (code, output);
    }

    private async Task<(int Code, string Output, string Error)> Run(params string[] args)
    {
        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter { NewLine = "\n" };
        var code = await Program.RunAsync([.. args, "--endpoints", Cluster.Endpoints], new System.CommandLine.InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }
}
