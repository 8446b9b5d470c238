using System.CommandLine;
using Bulwark.Availability.Estimation;
using Bulwark.Cli.Commands;

namespace Bulwark.Availability.Tests;

/// <summary>
/// A server journal from a member that never judged a peer down holds an observation_start and other kinds of records
/// but no node_down/node_up: the window is what the records cover, with no failure seen (issue 11, point 7).
/// </summary>
public sealed class JournalWithoutTransitionsTests : IDisposable
{
    /// <summary>What a follower's journal looks like after a quiet day: its header, a leader change, a snapshot.</summary>
    internal const string QuietJournal = """
        {"ts":"2026-12-01T00:00:00.000Z","event":"observation_start","nodes":["n1","n2","n3"],"observer":"n2"}
        {"ts":"2026-12-01T00:00:01.500Z","event":"leader_changed","node":"n1","term":2}
        {"ts":"2026-12-01T06:00:00.000Z","event":"snapshot_taken","index":10000}
        """;

    private readonly string dir = Directory.CreateTempSubdirectory("bulwark-journal-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void The_window_runs_to_the_latest_record_and_no_failure_is_seen()
    {
        var h = ObservedHistory.From(EventLog.Parse(QuietJournal));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), h.WindowStart);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 6, 0, 0, TimeSpan.Zero), h.WindowEnd);
        Assert.Equal(3, h.Nodes);
        Assert.Equal(0, h.Failures);
        Assert.Equal(18, h.UpHours, 9);
        Assert.Equal(1.0, h.MeasuredAvailability);

        var e = AvailabilityEstimate.From(h);
        Assert.Equal(Verdict.NoPrediction, e.Verdict);
        Assert.Contains("no node failure", e.VerdictText, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_observation_start_the_window_opens_at_the_earliest_record()
    {
        var h = ObservedHistory.From(EventLog.Parse(QuietJournal.Split('\n', 2)[1]), nodes: 3);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 1, 500, TimeSpan.Zero), h.WindowStart);
        Assert.Equal(0, h.Failures);
    }

    [Theory]
    [InlineData("""{"ts":"2026-12-01T00:00:00.000Z","event":"observation_start","nodes":["n1"]}""", "is empty")]
    [InlineData("""{"ts":"not a time","event":"leader_changed"}""", "no record with a timestamp")]
    [InlineData("", "no record with a timestamp")]
    public void A_log_covering_no_time_is_a_clean_error(string log, string message)
    {
        var e = Assert.Throws<AvailabilityInputException>(() => ObservedHistory.From(EventLog.Parse(log)));
        Assert.Contains(message, e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Estimate_of_a_quiet_journal_says_no_failure_was_seen()
    {
        string log = Path.Combine(dir, "events.jsonl");
        await File.WriteAllTextAsync(log, QuietJournal);
        var (code, output, error) = await RunEstimate("--log", log);
        Assert.True(code == 0, error);
        Assert.Equal("", error);
        Assert.Contains("2026-12-01 00:00 .. 2026-12-01 06:00 UTC", output, StringComparison.Ordinal);
        Assert.Matches(@"node failures +0 in 18 node-hours up", output);
        Assert.Contains("Verdict: the log shows no node failure", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Estimate_of_a_journal_holding_only_its_header_exits_2_in_plain_words()
    {
        string log = Path.Combine(dir, "events.jsonl");
        await File.WriteAllTextAsync(log, QuietJournal.Split('\n')[0] + "\n");
        var (code, output, error) = await RunEstimate("--log", log);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith("error: the observation window 2026-12-01T00:00:00.000Z .. 2026-12-01T00:00:00.000Z is empty", error, StringComparison.Ordinal);
    }

    /// <summary>`bulwark availability estimate ARGS` in-process.</summary>
    internal static async Task<(int Code, string Output, string Error)> RunEstimate(params string[] args)
    {
        var root = new RootCommand("test root");
        root.Subcommands.Add(AvailabilityCommands.Create());
        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter { NewLine = "\n" };
        int code = await root.Parse(["availability", "estimate", .. args]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }
}
