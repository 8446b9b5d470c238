using System.Text;
using Bulwark.Cli.Supervision;

namespace Bulwark.Cli.Tests.Supervision;

/// <summary>Supervises real short-lived shell processes.</summary>
public sealed class ClusterSupervisorTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static ChildSpec Shell(string name, string script) => new(name, "/bin/sh", ["-c", script]);

    private static SupervisorOptions Fast(TimeSpan? grace = null) => new()
    {
        GracePeriod = grace ?? TimeSpan.FromSeconds(10),
        Restart = new RestartPolicyOptions
        {
            InitialBackoff = TimeSpan.FromMilliseconds(10),
            MaxBackoff = TimeSpan.FromMilliseconds(40),
            CrashLoopLimit = 5,
            CrashLoopWindow = TimeSpan.FromSeconds(60),
        },
    };

    [Fact]
    public async Task A_crash_looping_child_is_restarted_until_the_limit_then_left_stopped()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var output = new StringWriter();
        var supervisor = new ClusterSupervisor([Shell("n1", "echo boom; exit 3")], Fast(), TimeProvider.System, output);
        var code = await supervisor.RunAsync(CancellationToken.None).WaitAsync(Patience);

        var text = output.ToString();
        Assert.Equal(1, code);
        Assert.Equal(5, Count(text, "[n1] boom"));
        Assert.Equal(4, Count(text, "restarting in"));
        Assert.Contains("n1 exited with code 3; crashed 5 times within 60 s (last exit code 3)", text, StringComparison.Ordinal);
        Assert.Contains("no member is running any more", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_stops_every_child_with_sigterm_and_forwards_their_output()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var output = new SignalingWriter("[n2] ready");
        const string script = "trap 'echo bye; exit 0' TERM; echo ready; while true; do sleep 0.05; done";
        var supervisor = new ClusterSupervisor([Shell("n1", script), Shell("n2", script)], Fast(), TimeProvider.System, output);
        using var stop = new CancellationTokenSource();
        var run = supervisor.RunAsync(stop.Token);
        await output.Seen.WaitAsync(Patience);
        await Task.Delay(100); // n1 may still be starting; both must end up stopped either way
        await stop.CancelAsync();

        Assert.Equal(0, await run.WaitAsync(Patience));
        var text = output.ToString();
        Assert.Contains("[n2] bye", text, StringComparison.Ordinal);
        Assert.Contains("supervisor: n1 stopped", text, StringComparison.Ordinal);
        Assert.Contains("supervisor: n2 stopped", text, StringComparison.Ordinal);
        Assert.DoesNotContain("killing", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_child_ignoring_sigterm_is_killed_after_the_grace_period()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var output = new SignalingWriter("[n1] ready");
        var supervisor = new ClusterSupervisor(
            [Shell("n1", "trap '' TERM; echo ready; while true; do sleep 0.05; done")],
            Fast(TimeSpan.FromMilliseconds(300)), TimeProvider.System, output);
        using var stop = new CancellationTokenSource();
        var run = supervisor.RunAsync(stop.Token);
        await output.Seen.WaitAsync(Patience);
        await stop.CancelAsync();

        Assert.Equal(0, await run.WaitAsync(Patience));
        Assert.Contains("did not stop within 0.3 s; killing it", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stdout_of_a_child_whose_lines_name_themselves_is_forwarded_unprefixed_and_stderr_still_prefixed()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var output = new StringWriter();
        var child = Shell("n1", "echo '{\"service.node.name\":\"n1\"}'; echo oops >&2; exit 0") with { PrefixStandardOutput = false };
        var supervisor = new ClusterSupervisor([child], Fast(), TimeProvider.System, output);
        await supervisor.RunAsync(CancellationToken.None).WaitAsync(Patience);

        var lines = output.ToString().Split('\n', StringSplitOptions.TrimEntries);
        Assert.Contains("{\"service.node.name\":\"n1\"}", lines);
        Assert.Contains("[n1] oops", lines);
    }

    [Fact]
    public async Task A_child_that_cannot_start_is_reported()
    {
        var output = new StringWriter();
        var supervisor = new ClusterSupervisor([new ChildSpec("n1", "/nonexistent/bulwark", [])], Fast(), TimeProvider.System, output);
        Assert.Equal(1, await supervisor.RunAsync(CancellationToken.None).WaitAsync(Patience));
        Assert.Contains("cannot start n1", output.ToString(), StringComparison.Ordinal);
    }

    private static int Count(string text, string needle)
    {
        var count = 0;
        for (var i = text.IndexOf(needle, StringComparison.Ordinal); i >= 0; i = text.IndexOf(needle, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>Collects output and completes <see cref="Seen"/> once a line contains the awaited text.</summary>
    private sealed class SignalingWriter(string awaited) : StringWriter
    {
        private readonly TaskCompletionSource seen = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Seen => seen.Task;

        public override Encoding Encoding => Encoding.UTF8;

        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (value is not null && value.Contains(awaited, StringComparison.Ordinal))
            {
                seen.TrySetResult();
            }
        }
    }
}
