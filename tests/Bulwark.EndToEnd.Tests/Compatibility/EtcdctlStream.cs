using System.Diagnostics;
using System.Text;

namespace Bulwark.EndToEnd.Tests.Compatibility;

/// <summary>
/// A long-running etcdctl (watch, lease keep-alive) whose output is read as it comes: wait for a line, then stop it
/// and take everything it printed.
/// </summary>
internal sealed class EtcdctlStream : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly Process process;
    private readonly StringBuilder stdout = new();
    private readonly StringBuilder stderr = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource Seen)> waiters = [];

    private EtcdctlStream(Process process)
    {
        this.process = process;
    }

    public static EtcdctlStream Start(string endpoints, params string[] args)
    {
        var process = Process.Start(Etcdctl.StartInfo(endpoints, args)) ?? throw new InvalidOperationException($"could not start {Etcdctl.Path}");
        var stream = new EtcdctlStream(process);
        process.OutputDataReceived += (_, e) => stream.Line(e.Data, stream.stdout);
        process.ErrorDataReceived += (_, e) => stream.Line(e.Data, stream.stderr);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return stream;
    }

    public string Stdout
    {
        get
        {
            lock (waiters)
            {
                return stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (waiters)
            {
                return stderr.ToString();
            }
        }
    }

    /// <summary>Writes a line to etcdctl's stdin (interactive watch).</summary>
    public async Task WriteLineAsync(string line)
    {
        await process.StandardInput.WriteLineAsync(line);
        await process.StandardInput.FlushAsync();
    }

    /// <summary>Waits until stdout holds a line equal to <paramref name="line"/>.</summary>
    public Task WaitForLineAsync(string line) => WaitForLineAsync(l => l == line, line);

    /// <summary>Waits until stdout holds a line that <paramref name="match"/> accepts (<paramref name="line"/> says which, for the failure).</summary>
    public async Task WaitForLineAsync(Func<string, bool> match, string line)
    {
        TaskCompletionSource seen;
        lock (waiters)
        {
            if (stdout.ToString().Split('\n').Any(match))
            {
                return;
            }

            seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiters.Add((match, seen));
        }

        try
        {
            await seen.Task.WaitAsync(Patience);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"etcdctl did not print '{line}' in {Patience.TotalSeconds} s; stdout:{Environment.NewLine}{Stdout}{Environment.NewLine}stderr:{Environment.NewLine}{Stderr}");
        }
    }

    /// <summary>Whether etcdctl has exited.</summary>
    public bool HasExited => process.HasExited;

    /// <summary>Kills etcdctl (SIGKILL: no chance to clean up, as a crashed client) and waits for it to exit.</summary>
    public async Task KillAsync()
    {
        process.Kill();
        await process.WaitForExitAsync().WaitAsync(Patience);
        process.WaitForExit();
    }

    /// <summary>Sends SIGINT (Ctrl-C): etcdctl lock and elect then unlock or resign and close their session before exiting.</summary>
    public async Task InterruptAsync()
    {
        using var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            ?? throw new InvalidOperationException("could not start kill");
        await kill.WaitForExitAsync().WaitAsync(Patience);
    }

    /// <summary>Waits for etcdctl to exit on its own; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        await process.WaitForExitAsync().WaitAsync(Patience);
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>Closes stdin and waits for etcdctl to exit on its own; returns its exit code.</summary>
    public async Task<int> CloseInputAndWaitAsync()
    {
        process.StandardInput.Close();
        await process.WaitForExitAsync().WaitAsync(Patience);
        process.WaitForExit(); // drains the asynchronous output readers
        return process.ExitCode;
    }

    private void Line(string? line, StringBuilder into)
    {
        if (line is null)
        {
            return;
        }

        lock (waiters)
        {
            into.Append(line).Append('\n');
            if (into != stdout)
            {
                return;
            }

            foreach (var waiter in waiters.Where(w => w.Match(line)).ToList())
            {
                waiters.Remove(waiter);
                waiter.Seen.TrySetResult();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        process.WaitForExit();
        process.Dispose();
    }
}
