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
    private readonly ThirdPartyProcess process;

    private HaproxyServer(ThirdPartyProcess process, string statsSocket)
    {
        this.process = process;
        StatsSocket = statsSocket;
    }

    public string StatsSocket { get; }

    public string Log => process.Log;

    public static async Task<HaproxyServer> StartAsync(string configTemplate)
    {
        var program = ExternalProgram.Require("haproxy", "haproxy");
        var dir = ThirdPartyProcess.NewDir("haproxy");
        var socket = Path.Combine(dir, "stats.sock");
        var config = Path.Combine(dir, "haproxy.cfg");
        await File.WriteAllTextAsync(config, configTemplate.Replace("{stats_socket}", socket, StringComparison.Ordinal)).ConfigureAwait(false);
        var check = await ExternalProgram.RunAsync(program, ["-c", "-f", config], TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        if (check.Exit != 0)
        {
            throw new InvalidOperationException($"haproxy rejected its configuration:\n{check.Stdout}\n{check.Stderr}");
        }

        var server = new HaproxyServer(ThirdPartyProcess.Start("haproxy", program, ["-db", "-f", config], dir), socket);
        try
        {
            await server.process.WaitReadyAsync(
                async () => File.Exists(socket) && await server.CommandAsync("show info").ConfigureAwait(false) is not null,
                e => e is SocketException, TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false); // not ready: no process left behind
            throw;
        }

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

    public ValueTask DisposeAsync() => process.DisposeAsync();
}
