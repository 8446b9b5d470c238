using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Bulwark.Server.Hosting;

namespace Bulwark.Server.Tests.Hosting;

public class LoopbackPortsTests
{
    /// <summary>
    /// Regression: CI failed with "address already in use" when a test cluster bound a port picked by the
    /// bind-0-and-release trick, because that port lies in the ephemeral range and an outgoing connection had
    /// taken it meanwhile. Ports below the range cannot be taken that way.
    /// </summary>
    [Fact]
    public void Ports_handed_out_lie_below_the_kernels_ephemeral_range_so_no_outgoing_connection_can_take_them()
    {
        // Linux publishes the range; elsewhere (or where /proc/sys is hidden) the IANA default applies.
        const string RangeFile = "/proc/sys/net/ipv4/ip_local_port_range";
        var ephemeralStart = File.Exists(RangeFile)
            ? int.Parse(File.ReadAllText(RangeFile).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture)
            : 49_152;

        var ports = LoopbackPorts.Take(200);

        Assert.All(ports, p => Assert.InRange(p, 1024, ephemeralStart - 1));
    }

    [Fact]
    public void Ports_are_distinct_within_a_process_and_free_to_bind()
    {
        var ports = LoopbackPorts.Take(50).Concat(Enumerable.Range(0, 50).Select(_ => LoopbackPorts.Next())).ToList();

        Assert.Equal(ports.Count, ports.Distinct().Count());
        foreach (var port in ports.Take(20))
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
        }
    }
}
