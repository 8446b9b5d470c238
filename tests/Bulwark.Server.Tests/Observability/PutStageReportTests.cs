using System.Diagnostics;
using Bulwark.Server.Observability;

namespace Bulwark.Server.Tests.Observability;

public sealed class PutStageReportTests
{
    private static long Micros(double us) => (long)(us * Stopwatch.Frequency / 1_000_000.0);

    private static PutSpan LeaderPut(double syncMicros)
    {
        var span = new PutSpan { Index = 1 };
        var t = 1_000_000L;
        foreach (var stage in PutStageReport.LeaderPath)
        {
            t += stage == PutStage.Synced ? Micros(syncMicros) : Micros(10);
            span.StampAt(stage, t);
        }

        return span;
    }

    private static PutStageReport Report(bool enabled, params PutSpan[] spans)
    {
        var now = PutStageBaseline.Now();
        return new PutStageReport(enabled, spans, now, now);
    }

    [Fact]
    public void Each_stage_is_the_median_time_from_the_stage_before_it_on_the_path()
    {
        var report = Report(true, LeaderPut(100), LeaderPut(300), LeaderPut(500));
        var text = report.ToMarkdown();

        Assert.Equal(3, report.LeaderPuts.Count);
        Assert.Contains("| Synced | WalWritten | 300.0 | 500.0 |", text, StringComparison.Ordinal);
        Assert.Contains("| Posted | GrpcEntered | 10.0 | 10.0 |", text, StringComparison.Ordinal);
        // 13 steps: 12 of 10 µs and the sync's median 300 µs.
        Assert.Contains("| **total** | GrpcEntered | **420.0** | **620.0** |", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Failed_and_incomplete_puts_are_left_out()
    {
        var failed = LeaderPut(100);
        failed.Failed = true;
        var incomplete = new PutSpan { Index = 2 };
        incomplete.StampAt(PutStage.GrpcEntered, 1);
        incomplete.StampAt(PutStage.Posted, 2);

        var report = Report(true, failed, incomplete, LeaderPut(200));

        Assert.Single(report.LeaderPuts);
    }

    [Fact]
    public void A_stage_is_stamped_once_the_first_stamp_wins()
    {
        var span = new PutSpan { Index = 1 };
        Assert.True(span.StampAt(PutStage.AckReceived, 5));
        Assert.False(span.StampAt(PutStage.AckReceived, 9));
        Assert.Equal(5, span.At(PutStage.AckReceived));
    }

    [Fact]
    public void A_follower_reports_its_path_from_the_append_to_its_ack()
    {
        var span = new PutSpan { Index = 7, Follower = true };
        var t = 1_000L;
        foreach (var stage in PutStageReport.FollowerPath)
        {
            t += Micros(20);
            span.StampAt(stage, t);
        }

        var text = Report(true, span).ToMarkdown();

        Assert.Contains("follower: an append's path to its ack (1 traced)", text, StringComparison.Ordinal);
        Assert.Contains("| Synced | WalWritten | 20.0 |", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Off_it_says_how_to_turn_it_on_and_still_reports_the_process_counters()
    {
        var text = Report(false).ToMarkdown();

        Assert.Contains(PutStageTrace.EnvironmentVariable + "=1", text, StringComparison.Ordinal);
        Assert.Contains("allocated_bytes", text, StringComparison.Ordinal);
        Assert.Contains("context_switches", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData("on", true)]
    [InlineData("0", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void The_switch_is_on_only_when_asked_for(string? value, bool on) => Assert.Equal(on, PutStageTrace.IsOn(value));
}
