using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Bulwark.Server.Tests.Observability;

namespace Bulwark.EndToEnd.Tests.LoadBalancing;

/// <summary>
/// A real HAProxy in the foreground (`haproxy -db -f cfg`) with a given configuration, its stats socket in a temp dir,
/// killed on dispose. The configuration gets the socket's path through <c>{stats_socket}</c>.
/// </summary>
internal sealed class HaproxyServer : IAsyncDisposable
{
    private readonly Process process;
    private readonly string dir;
    private readonly StringBuilder log = new();

    private HaproxyServer(Process process, string dir, string statsSocket)
    {
        this.process = process;
        this.dir = dir;
        StatsSocket = statsSocket;
    }

    public string StatsSocket { get; }

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

    public static async Task<HaproxyServer> StartAsync(string configTemplate)
    {
        var program = ExternalProgram.Require("haproxy", "haproxy");
        var dir = Path.Combine(Path.GetTempPath(), "bulwark-haproxy-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var socket = Path.Combine(dir, "stats.sock");
        var config = Path.Combine(dir, "haproxy.cfg");
        await File.WriteAllTextAsync(config, configTemplate.Replace("{stats_socket}", socket, StringComparison.Ordinal)).ConfigureAwait(false);
        var check = await ExternalProgram.RunAsync(program, ["-c", "-f", config], TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        if (check.Exit != 0)
        {
            throw new InvalidOperationException($"haproxy rejected its configuration:\n{check.Stdout}\n{check.Stderr}");
        }

        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-db");
        info.ArgumentList.Add("-f");
        info.ArgumentList.Add(config);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start haproxy");
        var server = new HaproxyServer(process, dir, socket);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitForSocketAsync().ConfigureAwait(false);
        return server;
    }

    /// <summary>Each server of <paramref name="backend"/> with its check status ("UP", "DOWN", "UP 1/2", ...) from `show stat`.</summary>
    public async Task<IReadOnlyDictionary<string, (string Status, long Sessions)>> ServersAsync(string backend)
    {
        var csv = await CommandAsync("show stat").ConfigureAwait(false);
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].TrimStart('#', ' ').Split(',');
        int Column(string name) => Array.IndexOf(header, name) is var i and >= 0 ? i : throw new InvalidOperationException($"no column {name} in `show stat`:\n{csv}");
        var (px, sv, status, total) = (Column("pxname"), Column("svname"), Column("status"), Column("stot"));
        return lines.Skip(1).Select(l => l.Split(','))
            .Where(f => f.Length > status && f[px] == backend && f[sv] is not ("FRONTEND" or "BACKEND"))
            .ToDictionary(f => f[sv], f => (f[status], long.Parse(f[total], System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>Polls <paramref name="backend"/>'s servers until <paramref name="accept"/> holds; the last view on timeout.</summary>
    public async Task<IReadOnlyDictionary<string, (string Status, long Sessions)>> WaitForAsync(string backend,
        Func<IReadOnlyDictionary<string, (string Status, long Sessions)>, bool> accept, TimeSpan patience, string what)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            var servers = await ServersAsync(backend).ConfigureAwait(false);
            if (accept(servers))
            {
                return servers;
            }

            if (DateTime.UtcNow > deadline)
            {
                var seen = string.Join(", ", servers.Select(s => $"{s.Key}={s.Value.Status}"));
                throw new TimeoutException($"haproxy backend {backend} never got to: {what}; last: {seen}\nhaproxy log:\n{Log}");
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>One command on the stats socket; returns its whole answer.</summary>
    public async Task<string> CommandAsync(string command)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(StatsSocket)).ConfigureAwait(false);
        await socket.SendAsync(Encoding.ASCII.GetBytes(command + "\n")).ConfigureAwait(false);
        var answer = new StringBuilder();
        var buffer = new byte[8192];
        int read;
        while ((read = await socket.ReceiveAsync(buffer).ConfigureAwait(false)) > 0)
        {
            answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return answer.ToString();
    }

    private async Task WaitForSocketAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"haproxy exited with {process.ExitCode}:\n{Log}");
            }

            try
            {
                if (File.Exists(StatsSocket))
                {
                    await CommandAsync("show info").ConfigureAwait(false);
                    return;
                }
            }
            catch (SocketException)
            {
                // not accepting yet
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"haproxy's stats socket not ready after 60 s:\n{Log}");
            }

            await Task.Delay(100).ConfigureAwait(false);
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
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // a temp dir left behind is harmless
        }
    }
}
