using System.Diagnostics;

namespace Bulwark.Server.Tests.Observability;

/// <summary>Third-party programs the observability tests drive; a missing one fails the test with how to install it.</summary>
internal static class ExternalProgram
{
    public static string Require(string name, string debianPackage)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException($"'{name}' is not installed (not on PATH); this test needs it: apt-get install -y {debianPackage} (.ci/run installs it)");
    }

    /// <summary>Runs a program to completion; returns exit code, stdout and stderr.</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string program, IEnumerable<string> args, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', info.ArgumentList)} did not finish in {timeout.TotalSeconds} s");
        }

        return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }
}
