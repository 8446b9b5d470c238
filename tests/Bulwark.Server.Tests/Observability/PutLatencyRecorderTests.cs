using Bulwark.Server.Observability;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Server.Tests.Observability;

public sealed class PutLatencyRecorderTests
{
    [Fact]
    public void Percentiles_are_nearest_rank_over_the_puts_in_the_window()
    {
        var time = new FakeTimeProvider();
        var recorder = new PutLatencyRecorder(time, TimeSpan.FromSeconds(60));
        Assert.Null(recorder.Summary());
        for (var ms = 100; ms >= 1; ms--)
        {
            recorder.Record(TimeSpan.FromMilliseconds(ms));
        }

        Assert.Equal(new LatencySummary(100, 50, 99), recorder.Summary());
        recorder.Record(TimeSpan.FromMilliseconds(1000));
        Assert.Equal(new LatencySummary(101, 51, 100), recorder.Summary());
    }

    [Fact]
    public void Puts_older_than_the_window_no_longer_count()
    {
        var time = new FakeTimeProvider();
        var recorder = new PutLatencyRecorder(time, TimeSpan.FromSeconds(60));
        recorder.Record(TimeSpan.FromMilliseconds(500));
        time.Advance(TimeSpan.FromSeconds(30));
        recorder.Record(TimeSpan.FromMilliseconds(2));
        Assert.Equal(new LatencySummary(2, 2, 500), recorder.Summary());
        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(new LatencySummary(1, 2, 2), recorder.Summary());
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(recorder.Summary());
    }

    [Fact]
    public void A_burst_keeps_only_the_newest_samples()
    {
        var recorder = new PutLatencyRecorder(new FakeTimeProvider(), capacity: 10);
        for (var i = 0; i < 10; i++)
        {
            recorder.Record(TimeSpan.FromMilliseconds(900));
        }

        for (var i = 1; i <= 10; i++)
        {
            recorder.Record(TimeSpan.FromMilliseconds(i));
        }

        Assert.Equal(new LatencySummary(10, 5, 10), recorder.Summary());
    }
}
