using Bulwark.Cli.Supervision;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Cli.Tests.Supervision;

public sealed class RestartPolicyTests
{
    private static readonly RestartPolicyOptions Options = new()
    {
        InitialBackoff = TimeSpan.FromSeconds(1),
        MaxBackoff = TimeSpan.FromSeconds(8),
        CrashLoopLimit = 5,
        CrashLoopWindow = TimeSpan.FromSeconds(60),
        StableAfter = TimeSpan.FromSeconds(30),
    };

    [Fact]
    public void Consecutive_crashes_back_off_exponentially_up_to_the_cap()
    {
        var time = new FakeTimeProvider();
        var policy = new RestartPolicy(Options with { CrashLoopLimit = 100, CrashLoopWindow = TimeSpan.FromSeconds(1) }, time);
        var delays = new List<double>();
        for (var i = 0; i < 6; i++)
        {
            policy.OnStarted();
            time.Advance(TimeSpan.FromSeconds(2));
            var decision = policy.OnExited(1);
            Assert.True(decision.Restart);
            delays.Add(decision.Delay.TotalSeconds);
            time.Advance(decision.Delay);
        }

        Assert.Equal([1, 2, 4, 8, 8, 8], delays);
    }

    [Fact]
    public void A_member_removed_from_the_cluster_is_not_restarted()
    {
        var time = new FakeTimeProvider();
        var policy = new RestartPolicy(Options, time);
        policy.OnStarted();
        time.Advance(TimeSpan.FromSeconds(40));
        var decision = policy.OnExited(Bulwark.Cli.Commands.ServeCommand.ExitRemoved);
        Assert.False(decision.Restart);
        Assert.Contains("removed from the cluster", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Five_crashes_within_a_minute_stop_the_restarts_and_say_why()
    {
        var time = new FakeTimeProvider();
        var policy = new RestartPolicy(Options, time);
        for (var i = 0; i < 4; i++)
        {
            policy.OnStarted();
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.True(policy.OnExited(3).Restart);
        }

        policy.OnStarted();
        time.Advance(TimeSpan.FromSeconds(1));
        var last = policy.OnExited(3);
        Assert.False(last.Restart);
        Assert.Contains("crashed 5 times within 60 s (last exit code 3)", last.Reason, StringComparison.Ordinal);
        Assert.Contains("not restarting", last.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Crashes_spread_wider_than_the_window_keep_being_restarted()
    {
        var time = new FakeTimeProvider();
        var policy = new RestartPolicy(Options, time);
        for (var i = 0; i < 20; i++)
        {
            policy.OnStarted();
            time.Advance(TimeSpan.FromSeconds(16)); // at most 4 crashes in any 60 s
            Assert.True(policy.OnExited(1).Restart, $"crash {i} should be restarted");
        }

        Assert.Equal(4, policy.CrashesInWindow);
    }

    [Fact]
    public void A_stable_run_resets_the_backoff()
    {
        var time = new FakeTimeProvider();
        var policy = new RestartPolicy(Options, time);
        policy.OnStarted();
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(1), policy.OnExited(1).Delay);
        policy.OnStarted();
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(2), policy.OnExited(1).Delay);
        policy.OnStarted();
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(TimeSpan.FromSeconds(1), policy.OnExited(1).Delay);
    }

    [Fact]
    public void A_clean_exit_is_not_restarted()
    {
        var policy = new RestartPolicy(Options, new FakeTimeProvider());
        var decision = policy.OnExited(0);
        Assert.False(decision.Restart);
        Assert.Contains("code 0", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_options_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new RestartPolicy(Options with { CrashLoopLimit = 0 }, new FakeTimeProvider()));
        Assert.Throws<ArgumentException>(() => new RestartPolicy(Options with { MaxBackoff = TimeSpan.FromMilliseconds(1) }, new FakeTimeProvider()));
    }
}
