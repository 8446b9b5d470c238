using System.CommandLine;
using System.Text.Json;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Cli;
using Bulwark.EndToEnd.Tests.Processes;
using Google.Protobuf;

namespace Bulwark.EndToEnd.Tests.Compatibility;

/// <summary>
/// Online backup against a real 3-process cluster: etcdctl 3.4's `snapshot save` and `bulwark snapshot save` write the
/// Maintenance.Snapshot stream to a file, and `bulwark snapshot status` checks it and reports its revision and keys.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class EtcdctlSnapshotTests(SharedCluster shared) : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("bulwark-backup-").FullName;

    private ProcessCluster Cluster => shared.Cluster;

    [Fact]
    public async Task EtcdctlSnapshotSaveWritesAFileThatStatusReads()
    {
        var lastPut = await PutKeysAsync("backup/etcdctl/", 50);
        var file = Path.Combine(directory, "etcdctl.db");

        var saved = await Etcdctl.RunOkAsync(Cluster.ClientUrls[0]["http://".Length..], "snapshot", "save", file);
        Assert.Contains($"Snapshot saved at {file}", saved, StringComparison.Ordinal);

        var (code, output, error) = await BulwarkCli("snapshot", "status", file, "-w", "json");
        Assert.True(code == 0, error);
        var status = JsonDocument.Parse(output).RootElement;
        var revision = status.GetProperty("revision").GetInt64();
        Assert.True(revision >= lastPut, $"snapshot revision {revision} is before the last acknowledged put {lastPut}");
        Assert.Equal(await LiveKeysAtAsync(revision), status.GetProperty("totalKey").GetInt64());
        Assert.Equal(new FileInfo(file).Length, status.GetProperty("totalSize").GetInt64());
        Assert.Equal(64, status.GetProperty("hash").GetString()!.Length);

        (code, output, _) = await BulwarkCli("snapshot", "status", file, "-w", "table");
        Assert.Equal(0, code);
        Assert.Matches(@"^HASH +REVISION +TOTAL KEYS +TOTAL SIZE\n", output);
    }

    [Fact]
    public async Task BulwarkSnapshotSavePrintsRevisionKeysSizeAndHash()
    {
        await PutKeysAsync("backup/bulwark/", 20);
        var file = Path.Combine(directory, "bulwark.db");
        var (code, output, error) = await BulwarkCli("snapshot", "save", file, "--endpoints", Cluster.ClientUrls[1]);
        Assert.True(code == 0, error);
        Assert.StartsWith($"Snapshot saved at {file}\nrevision ", output, StringComparison.Ordinal);
        Assert.False(File.Exists(file + ".part"));

        var (badCode, _, badError) = await BulwarkCli("snapshot", "save", Path.Combine(directory, "no-such-dir", "x.db"), "--endpoints", Cluster.ClientUrls[1]);
        Assert.Equal(2, badCode);
        Assert.Contains("cannot write", badError, StringComparison.Ordinal);

        (code, var json, error) = await BulwarkCli("snapshot", "status", file, "-w", "json");
        Assert.True(code == 0, error);
        var status = JsonDocument.Parse(json).RootElement;
        Assert.Contains($"revision {status.GetProperty("revision").GetInt64()}, total keys {status.GetProperty("totalKey").GetInt64()}, " +
            $"total size {new FileInfo(file).Length} bytes, sha256 {status.GetProperty("hash").GetString()}", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusRefusesATruncatedOrCorruptedFile()
    {
        await PutKeysAsync("backup/bad/", 5);
        var file = Path.Combine(directory, "good.db");
        await Etcdctl.RunOkAsync(Cluster.ClientUrls[0]["http://".Length..], "snapshot", "save", file);
        var bytes = await File.ReadAllBytesAsync(file);

        var truncated = Path.Combine(directory, "truncated.db");
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length / 2)]);
        var (code, _, error) = await BulwarkCli("snapshot", "status", truncated);
        Assert.Equal(2, code);
        Assert.Contains("truncated or corrupted", error, StringComparison.Ordinal);

        var corrupted = Path.Combine(directory, "corrupted.db");
        bytes[bytes.Length / 3] ^= 0x01;
        await File.WriteAllBytesAsync(corrupted, bytes);
        (code, _, error) = await BulwarkCli("snapshot", "status", corrupted);
        Assert.Equal(2, code);
        Assert.Contains("SHA-256", error, StringComparison.Ordinal);

        (code, _, error) = await BulwarkCli("snapshot", "status", Path.Combine(directory, "absent.db"));
        Assert.Equal(2, code);
        Assert.Contains("absent.db", error, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private async Task<long> PutKeysAsync(string prefix, int count)
    {
        long revision = 0;
        for (var i = 0; i < count; i++)
        {
            revision = (await Cluster.Kv(0).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"{prefix}{i}"), Value = ByteString.CopyFromUtf8($"value {i}") })).Header.Revision;
        }

        return revision;
    }

    /// <summary>How many keys the cluster held at <paramref name="revision"/> (every key: the range "\0" to "\0").</summary>
    private async Task<long> LiveKeysAtAsync(long revision) =>
        (await Cluster.Kv(0).RangeAsync(new RangeRequest { Key = ByteString.CopyFrom(0), RangeEnd = ByteString.CopyFrom(0), Revision = revision, CountOnly = true })).Count;

    private static async Task<(int Code, string Output, string Error)> BulwarkCli(params string[] args)
    {
        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter { NewLine = "\n" };
        var code = await Program.RunAsync(args, new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }
}
