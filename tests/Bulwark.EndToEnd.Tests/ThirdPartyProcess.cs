using System.Diagnostics;
using System.Text;

namespace Bulwark.EndToEnd.Tests;

/// <summary>
/// A third-party server a test runs for real (Prometheus, HAProxy): the process, its own temp dir, and everything it
/// printed (for failure messages). Readiness is waited for with a deadline, never a fixed sleep; a process that exits
/// while being waited for fails at once with its output. Disposing kills it and deletes the dir.
/// </summary>
internal sealed class ThirdPartyProcess : IAsyncDisposable
{
    private readonly StringBuilder log = new();
    private readonly Process process;
    private readonly string name;

    private ThirdPartyProcess(string name, Process process, string dir)
    {
        this.name = name;
        this.process = process;
        Dir = dir;
    }

    /// <summary>The process's own temp dir (configuration, data, sockets).</summary>
    public string Dir { get; }

    public string Log
    {
        get
        {
            lock (log)
            {
                return log.ToString();
            }
        }
    }

    /// <summary>A fresh temp dir for a server about to start, named after it.</summary>
    public static string NewDir(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"bulwark-{name}-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Starts <paramref name="program"/> with <paramref name="arguments"/>, owning <paramref name="dir"/>.</summary>
    public static ThirdPartyProcess Start(string name, string program, IEnumerable<string> arguments, string dir)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {name}");
        var started = new ThirdPartyProcess(name, process, dir);
        process.OutputDataReceived += (_, e) => started.Append(e.Data);
        process.ErrorDataReceived += (_, e) => started.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    /// <summary>
    /// Polls <paramref name="ready"/> until it says yes (an exception of a type <paramref name="notYet"/> accepts means
    /// "not listening yet"), for up to 60 s.
    /// </summary>
    public async Task WaitReadyAsync(Func<Task<bool>> ready, Func<Exception, bool> notYet, TimeSpan poll)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{name} exited with {process.ExitCode}:\n{Log}");
            }

            try
            {
                if (await ready().ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (Exception e) when (notYet(e))
            {
                // not listening yet
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{name} not ready after 60 s:\n{Log}");
            }

            await Task.Delay(poll).ConfigureAwait(false);
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.AppendLine(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        process.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
            // a temp dir left behind is harmless
        }
    }
}
