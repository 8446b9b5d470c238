using System.Diagnostics;

namespace Bulwark.Cli.Supervision;

/// <summary>
/// Runs a set of child processes: forwards their output (prefixed with their name unless
/// <see cref="ChildSpec.PrefixStandardOutput"/> says their lines name themselves), restarts a child that crashes
/// (per <see cref="RestartPolicy"/>), and on cancellation stops them all (SIGTERM, then kill after the grace period).
/// </summary>
public sealed class ClusterSupervisor
{
    private readonly IReadOnlyList<ChildSpec> children;
    private readonly SupervisorOptions options;
    private readonly TimeProvider time;
    private readonly TextWriter output;

    public ClusterSupervisor(IReadOnlyList<ChildSpec> children, SupervisorOptions options, TimeProvider time, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(children);
        ArgumentNullException.ThrowIfNull(options);
        options.Restart.Validate();
        if (children.Count == 0 || children.Select(c => c.Name).Distinct().Count() != children.Count)
        {
            throw new ArgumentException("children must be non-empty with distinct names", nameof(children));
        }

        this.children = children;
        this.options = options;
        this.time = time ?? throw new ArgumentNullException(nameof(time));
        this.output = TextWriter.Synchronized(output ?? throw new ArgumentNullException(nameof(output)));
    }

    /// <summary>
    /// Supervises until <paramref name="stopping"/> is cancelled (then stops every child) or until no child is left running.
    /// Returns 0 when stopped on request with no child given up on, 1 otherwise.
    /// </summary>
    public async Task<int> RunAsync(CancellationToken stopping)
    {
        var outcomes = await Task.WhenAll(children.Select(c => Task.Run(() => SuperviseAsync(c, stopping), CancellationToken.None))).ConfigureAwait(false);
        var gaveUp = outcomes.Count(o => !o);
        if (gaveUp == children.Count)
        {
            output.WriteLine($"supervisor: no member is running any more ({gaveUp} of {children.Count} given up); exiting");
        }

        return gaveUp == 0 ? 0 : 1;
    }

    /// <summary>True when the child was stopped on request; false when the supervisor gave up on it.</summary>
    private async Task<bool> SuperviseAsync(ChildSpec spec, CancellationToken stopping)
    {
        var policy = new RestartPolicy(options.Restart, time);
        while (!stopping.IsCancellationRequested)
        {
            using var process = new Process { StartInfo = StartInfo(spec) };
            try
            {
                process.Start();
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                output.WriteLine($"supervisor: cannot start {spec.Name} ({spec}): {e.Message}; not retrying");
                return false;
            }

            policy.OnStarted();
            output.WriteLine($"supervisor: started {spec.Name} (pid {process.Id})");
            var forwarding = Task.WhenAll(
                ForwardAsync(spec.PrefixStandardOutput ? spec.Name : null, process.StandardOutput),
                ForwardAsync(spec.Name, process.StandardError));
            var exited = process.WaitForExitAsync(CancellationToken.None);
            await Task.WhenAny(exited, Task.Delay(Timeout.Infinite, stopping)).ConfigureAwait(false);
            if (!exited.IsCompleted)
            {
                await StopAsync(spec, process, exited).ConfigureAwait(false);
                await forwarding.ConfigureAwait(false);
                return true;
            }

            await forwarding.ConfigureAwait(false);
            if (stopping.IsCancellationRequested)
            {
                output.WriteLine($"supervisor: {spec.Name} exited with code {process.ExitCode}");
                return true;
            }

            var decision = policy.OnExited(process.ExitCode);
            if (!decision.Restart)
            {
                output.WriteLine($"supervisor: {spec.Name} exited with code {process.ExitCode}; {decision.Reason}");
                return false;
            }

            output.WriteLine($"supervisor: {spec.Name} exited with code {process.ExitCode}; {decision.Reason}");
            try
            {
                await Task.Delay(decision.Delay, time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return true;
            }
        }

        return true;
    }

    private async Task StopAsync(ChildSpec spec, Process process, Task exited)
    {
        output.WriteLine($"supervisor: stopping {spec.Name} (SIGTERM)");
        try
        {
            ProcessSignals.Terminate(process);
        }
        catch (InvalidOperationException)
        {
            return; // it exited meanwhile
        }

        if (await Task.WhenAny(exited, Task.Delay(options.GracePeriod, time)).ConfigureAwait(false) != exited)
        {
            output.WriteLine($"supervisor: {spec.Name} did not stop within {options.GracePeriod.TotalSeconds:0.#} s; killing it");
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // exited between the check and the kill
            }

            await exited.ConfigureAwait(false);
        }

        output.WriteLine($"supervisor: {spec.Name} stopped (exit code {process.ExitCode})");
    }

    private async Task ForwardAsync(string? prefix, StreamReader reader)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            output.WriteLine(prefix is null ? line : $"[{prefix}] {line}");
        }
    }

    private static ProcessStartInfo StartInfo(ChildSpec spec)
    {
        var info = new ProcessStartInfo(spec.FileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
        };
        foreach (var argument in spec.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in spec.Environment)
        {
            info.Environment[key] = value;
        }

        return info;
    }
}
