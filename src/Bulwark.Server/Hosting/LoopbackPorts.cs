using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Bulwark.Server.Hosting;

/// <summary>
/// Hands out loopback TCP ports that are free now and will stay free until someone binds them on purpose.
/// </summary>
/// <remarks>
/// The usual trick — bind port 0, read the port, close, bind it again later — races with every outgoing
/// connection on the machine: the kernel gives those their local port from the same ephemeral range, so in
/// the gap a client socket can take the port and the later bind fails with "address already in use" (seen in
/// CI). Ports chosen here come from below the ephemeral range, which the kernel never hands out implicitly,
/// so only another explicit bind can take them. Each is probed by binding it, and a process never hands out
/// the same port twice; a random start keeps concurrent processes (test runs, <c>bulwark cluster up</c>)
/// from walking the same sequence.
/// </remarks>
public static class LoopbackPorts
{
    private const int PoolStart = 15_000;
    private static readonly object Gate = new();
    private static readonly (int Start, int End) Pool = ChoosePool();
    private static int cursor = Random.Shared.Next(Pool.Start, Pool.End);
    private static int handedOut;

    /// <summary>One free loopback port.</summary>
    public static int Next() => Take(1)[0];

    /// <summary><paramref name="count"/> distinct free loopback ports.</summary>
    public static int[] Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var ports = new int[count];
        lock (Gate)
        {
            for (var i = 0; i < count; i++)
            {
                ports[i] = NextFreeLocked();
            }
        }

        return ports;
    }

    private static int NextFreeLocked()
    {
        var size = Pool.End - Pool.Start;
        for (var tried = 0; tried < size && handedOut < size; tried++)
        {
            var port = cursor;
            cursor = cursor + 1 >= Pool.End ? Pool.Start : cursor + 1;
            if (IsFree(port))
            {
                handedOut++;
                return port;
            }
        }

        throw new InvalidOperationException($"no free loopback port left in {Pool.Start}..{Pool.End - 1}");
    }

    private static bool IsFree(int port)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
            probe.Listen(1);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>[start, end): below the kernel's ephemeral range where we can read it, above the common service ports.</summary>
    private static (int Start, int End) ChoosePool()
    {
        // Linux publishes the range; Windows and macOS default to the IANA range 49152-65535.
        var ephemeralStart = 49_152;
        try
        {
            const string RangeFile = "/proc/sys/net/ipv4/ip_local_port_range";
            if (File.Exists(RangeFile))
            {
                var low = File.ReadAllText(RangeFile).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[0];
                ephemeralStart = int.Parse(low, CultureInfo.InvariantCulture);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
        }

        // A machine configured with a very wide ephemeral range leaves no room below it; fall back to a fixed
        // high block, where the probe still keeps us off ports in use.
        return ephemeralStart - PoolStart >= 2_000 ? (PoolStart, ephemeralStart) : (PoolStart, PoolStart + 10_000);
    }
}
