using System.Diagnostics;
using System.Text;
using Bulwark.Server.Hosting;

namespace Bulwark.EndToEnd.Tests.Compatibility;

/// <summary>
/// A real single-member etcd (Debian's etcd-server) on loopback, to compare etcdctl's output against Bulwark's side by
/// side. Fails, never skips, when etcd is not installed.
/// </summary>
public sealed class ReferenceEtcd : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "bulwark-ref-etcd-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly StringBuilder log = new();
    private Process? process;

    /// <summary>The client endpoint as host:port.</summary>
    public string Endpoint { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var binary = new[] { "/usr/bin/etcd", "/usr/local/bin/etcd" }.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException("etcd is not installed: the side-by-side tests need the real etcd server. Install the Debian package etcd-server (as .ci/run does).");
        var ports = LoopbackPorts.Take(2);
        Endpoint = $"127.0.0.1:{ports[0]}";
        var peer = $"http://127.0.0.1:{ports[1]}";
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--name", "ref", "--data-dir", dataDir,
            "--listen-client-urls", $"http://{Endpoint}", "--advertise-client-urls", $"http://{Endpoint}",
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", $"ref={peer}",
        })
        {
            info.ArgumentList.Add(arg);
        }

        process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {binary}");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var health = await Etcdctl.RunAsync(Endpoint, null, "endpoint", "health");
            if (health.ExitCode == 0)
            {
                return;
            }

            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"the reference etcd did not become healthy: {health}{Environment.NewLine}{Log}");
            }

            await Task.Delay(200);
        }
    }

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

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.AppendLine(line);
        }
    }

    public async Task DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        process?.Dispose();
        try
        {
            Directory.Delete(dataDir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
