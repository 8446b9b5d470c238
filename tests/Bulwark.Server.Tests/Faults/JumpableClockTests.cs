using Bulwark.Server.Faults;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Server.Tests.Faults;

public sealed class JumpableClockTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(50);
    private readonly FakeTimeProvider real = new();
    private readonly JumpableClock clock;
    private int ticks;

    public JumpableClockTests()
    {
        clock = new JumpableClock(real);
    }

    // FakeTimeProvider moves to the end of an Advance before it fires what fell due, so a timer re-armed from its own
    // callback would count from the end; real time passes continuously, so advance a millisecond at a time.
    private void Run(TimeSpan span)
    {
        for (var t = TimeSpan.Zero; t < span; t += TimeSpan.FromMilliseconds(1))
        {
            real.Advance(TimeSpan.FromMilliseconds(1));
        }
    }

    [Fact]
    public void WithoutJumpsItIsTheRealClock()
    {
        using var timer = clock.CreateTimer(_ => ticks++, null, Tick, Tick);
        var start = clock.GetTimestamp();
        Run(TimeSpan.FromMilliseconds(500));
        Assert.Equal(10, ticks);
        Assert.Equal(TimeSpan.FromMilliseconds(500), clock.GetElapsedTime(start));
        Assert.Equal(real.GetUtcNow(), clock.GetUtcNow());
    }

    [Fact]
    public void AForwardJumpFiresADueTimerOnceAndDoesNotReplaySkippedTicks()
    {
        using var timer = clock.CreateTimer(_ => ticks++, null, Tick, Tick);
        Run(TimeSpan.FromMilliseconds(20));
        var wallBefore = clock.GetUtcNow();
        clock.Jump(TimeSpan.FromSeconds(10));
        real.Advance(TimeSpan.Zero); // lets the re-armed real timer run

        // One tick at once for 10 s skipped (200 periods): a lease counted in ticks ends at most one tick early.
        Assert.Equal(1, ticks);
        Assert.Equal(TimeSpan.FromSeconds(10), clock.Offset);
        Assert.Equal(wallBefore + TimeSpan.FromSeconds(10), clock.GetUtcNow());
        Run(TimeSpan.FromMilliseconds(49));
        Assert.Equal(1, ticks);
        Run(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, ticks);
        Run(TimeSpan.FromMilliseconds(500));
        Assert.Equal(12, ticks);
    }

    [Fact]
    public void ABackwardJumpDelaysEveryTimerByTheJump()
    {
        using var timer = clock.CreateTimer(_ => ticks++, null, Tick, Tick);
        Run(TimeSpan.FromMilliseconds(100));
        Assert.Equal(2, ticks);
        var before = clock.GetTimestamp();
        clock.Jump(TimeSpan.FromSeconds(-2));
        Assert.True(clock.GetTimestamp() < before);

        Run(TimeSpan.FromMilliseconds(2049));
        Assert.Equal(2, ticks); // no tick while the clock re-covers the 2 s it went back
        Run(TimeSpan.FromMilliseconds(1));
        Assert.Equal(3, ticks);
        Run(TimeSpan.FromMilliseconds(100));
        Assert.Equal(5, ticks);
    }

    [Fact]
    public void OneShotTimersAndDelaysFollowTheJumpedClock()
    {
        var fired = 0;
        using var oneShot = clock.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);
        var delay = Task.Delay(TimeSpan.FromSeconds(5), clock);
        clock.Jump(TimeSpan.FromSeconds(6));
        real.Advance(TimeSpan.Zero);
        Assert.Equal(1, fired);
        Assert.True(delay.IsCompleted);
        Run(TimeSpan.FromSeconds(30));
        Assert.Equal(1, fired);
    }

    [Fact]
    public void ADisposedOrStoppedTimerNeverFires()
    {
        var timer = clock.CreateTimer(_ => ticks++, null, Tick, Tick);
        Assert.True(timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan));
        clock.Jump(TimeSpan.FromSeconds(1));
        Run(TimeSpan.FromSeconds(1));
        Assert.Equal(0, ticks);
        timer.Change(Tick, Tick);
        timer.Dispose();
        Assert.False(timer.Change(Tick, Tick));
        clock.Jump(TimeSpan.FromSeconds(1));
        Run(TimeSpan.FromSeconds(1));
        Assert.Equal(0, ticks);
    }
}
