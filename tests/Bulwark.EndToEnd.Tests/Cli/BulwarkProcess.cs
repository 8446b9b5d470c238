using System.Diagnostics;
using Bulwark.EndToEnd.Tests.Processes;

namespace Bulwark.EndToEnd.Tests.Cli;

/// <summary>Runs the real `bulwark` executable with bytes on stdin and returns its exit code, stdout bytes and stderr.</summary>
internal static class BulwarkProcess
{
    public static async Task<(int Code, byte[] Output, string Error)> RunAsync(byte[]? stdin, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(ProcessCluster.DotnetHost)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(ProcessCluster.BulwarkDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        using var stdout = new MemoryStream();
        var output = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardInput.BaseStream.WriteAsync(stdin ?? []);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(ProcessCluster.Patience);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bulwark {string.Join(' ', args)} did not exit within {ProcessCluster.Patience.TotalSeconds} s");
        }

        await output;
        return (process.ExitCode, stdout.ToArray(), await error);
    }
}
