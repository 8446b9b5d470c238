using Bulwark.Chaos.Analysis;
using Bulwark.Chaos.Workload;
using Bulwark.Cli.Tests.Cli;

namespace Bulwark.Cli.Tests.Chaos;

/// <summary>
/// `bulwark chaos check` on small recorded histories: one corrupted read makes it exit 1 with the excerpt naming the
/// read; the same history uncorrupted passes. The checker path is the one a chaos run ends with.
/// </summary>
public sealed class ChaosCheckBitesTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("bulwark-chaos-check-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static HistoryEntry Put(long id, int client, string key, string value, long call, long? ret) =>
        new(id, client, "put", key, value, null, null, ret is null ? null : true, ret is null, call, ret);

    private static HistoryEntry Get(long id, int client, string key, string? read, long call, long ret) =>
        new(id, client, "get", key, null, null, read, true, false, call, ret);

    private string Save(params HistoryEntry[] ops)
    {
        var path = Path.Combine(dir, Guid.NewGuid().ToString("N") + ".json");
        new HistoryFile(ops, Array.Empty<SerializableRead>(), Array.Empty<OpEvent>()).Save(path);
        return path;
    }

    // put a, then put b (both acknowledged, one after the other), then a read; the last client is the final reader.
    private string History(string lastRead) => Save(
        Put(1, 0, "chaos/k0", "c0-1", 1, 2),
        Put(2, 1, "chaos/k0", "c1-1", 3, 4),
        Put(3, 0, "chaos/k1", "c0-2", 5, null), // unknown outcome, never read: fits at the end
        Get(4, 1, "chaos/k0", lastRead, 6, 7),
        Get(5, 2, "chaos/k0", "c1-1", 8, 9));

    [Fact]
    public async Task A_history_without_a_corrupted_read_passes()
    {
        var (code, output, error) = await InProcessCli.RunAsync("chaos", "check", "--history", History("c1-1"));

        Assert.True(code == 0, output + error);
        Assert.Contains("linearizable", output, StringComparison.Ordinal);
        Assert.Contains("acknowledged writes lost: 0", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task One_stale_read_is_reported_with_exit_code_1_and_an_excerpt_naming_it()
    {
        var (code, output, error) = await InProcessCli.RunAsync("chaos", "check", "--history", History("c0-1"));

        Assert.True(code == 1, $"exit {code}: {output}{error}");
        Assert.Contains("not linearizable", output, StringComparison.Ordinal);
        Assert.Contains("key 'chaos/k0'", output, StringComparison.Ordinal);
        Assert.Contains("#4 c1 get(chaos/k0) -> 'c0-1'", output, StringComparison.Ordinal);
        Assert.Contains("result: VIOLATION", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_acknowledged_write_missing_from_the_final_read_is_a_lost_write()
    {
        var path = Save(
            Put(1, 0, "chaos/k0", "c0-1", 1, 2),
            Put(2, 1, "chaos/k0", "c1-1", 3, 4),
            Get(3, 2, "chaos/k0", "c0-1", 5, 6));

        var (code, output, _) = await InProcessCli.RunAsync("chaos", "check", "--history", path);

        Assert.Equal(1, code);
        Assert.Contains("acknowledged writes lost: 1", output, StringComparison.Ordinal);
        Assert.Contains("#2 put(chaos/k0, c1-1) acknowledged; final value c0-1", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unread_write_of_unknown_outcome_that_explains_a_failed_cas_is_not_a_violation()
    {
        // Without the unknown put of c1-1 the failed CAS (expecting c0-1, which was the value) is impossible; with it
        // taking effect before the CAS, everything fits. Setting unread unknown writes aside must not report a violation.
        var path = Save(
            Put(1, 0, "chaos/k0", "c0-1", 1, 2),
            Put(2, 1, "chaos/k0", "c1-1", 3, null),
            new HistoryEntry(3, 0, "compareandset", "chaos/k0", "c0-2", "c0-1", null, false, false, 4, 5),
            Put(4, 0, "chaos/k0", "c0-3", 6, 7),
            Get(5, 2, "chaos/k0", "c0-3", 8, 9));

        var (code, output, error) = await InProcessCli.RunAsync("chaos", "check", "--history", path);

        Assert.True(code == 0, output + error);
        Assert.Contains("history: 5 operations, linearizable", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_input_exits_2()
    {
        var missing = await InProcessCli.RunAsync("chaos", "check", "--history", Path.Combine(dir, "nope.json"));
        var unknownFault = await InProcessCli.RunAsync("chaos", "--faults", "kill-everything", "--out", dir);
        var noUnit = await InProcessCli.RunAsync("chaos", "--duration", "60", "--out", dir);
        var endpointsWithFaults = await InProcessCli.RunAsync("chaos", "--endpoints", "127.0.0.1:1", "--faults", "kill-leader", "--out", dir);

        Assert.Equal((2, true), (missing.Code, missing.Error.Contains("no such file", StringComparison.Ordinal)));
        Assert.Equal((2, true), (unknownFault.Code, unknownFault.Error.Contains("unknown fault 'kill-everything'", StringComparison.Ordinal)));
        Assert.Equal((2, true), (noUnit.Code, noUnit.Error.Contains("has no unit", StringComparison.Ordinal)));
        Assert.Equal((2, true), (endpointsWithFaults.Code, endpointsWithFaults.Error.Contains("with --endpoints no fault can be applied", StringComparison.Ordinal)));
    }
}
