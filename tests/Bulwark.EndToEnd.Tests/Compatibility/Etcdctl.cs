using System.Diagnostics;
using System.Text;

namespace Bulwark.EndToEnd.Tests.Compatibility;

/// <summary>Runs the real `etcdctl` (Debian package etcd-client) as a child process with the v3 API.</summary>
internal static class Etcdctl
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}{Environment.NewLine}stdout:{Environment.NewLine}{Stdout}{Environment.NewLine}stderr:{Environment.NewLine}{Stderr}";
    }

    /// <summary>The etcdctl on PATH; fails (never skips) with what to install when it is missing.</summary>
    public static string Path { get; } = Find();

    /// <summary>Runs etcdctl with <paramref name="args"/> and asserts it exits 0.</summary>
    public static async Task<string> RunOkAsync(string endpoints, params string[] args)
    {
        var result = await RunAsync(endpoints, null, args);
        Assert.True(result.ExitCode == 0, $"etcdctl {string.Join(' ', args)} failed: {result}");
        return result.Stdout;
    }

    /// <summary>How etcdctl is started: v3 API, redirected streams, the endpoints and a patient dial timeout.</summary>
    public static ProcessStartInfo StartInfo(string endpoints, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.Environment["ETCDCTL_API"] = "3";
        info.ArgumentList.Add("--endpoints");
        info.ArgumentList.Add(endpoints);
        info.ArgumentList.Add("--dial-timeout=20s");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    public static async Task<Result> RunAsync(string endpoints, string? stdin, params string[] args)
    {
        var info = StartInfo(endpoints, ["--command-timeout=30s", .. args]);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {Path}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"etcdctl {string.Join(' ', args)} did not finish in {Patience.TotalSeconds} s");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    private static string Find()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(dir, "etcdctl");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(
            "etcdctl is not installed: the compatibility tests need the real etcd client. Install the Debian package " +
            "etcd-client (`sudo apt-get install etcd-client`, as .ci/run does) and run the tests again.");
    }

    /// <summary>Lines of output without the trailing newline's empty line.</summary>
    public static string[] Lines(string output) =>
        output.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n').Split('\n');

    public static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
