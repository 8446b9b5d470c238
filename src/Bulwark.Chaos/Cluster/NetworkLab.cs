using System.Globalization;

namespace Bulwark.Chaos.Cluster;

/// <summary>
/// One network namespace per member, each with a veth link into a bridge in the root namespace, so that the
/// links between members can be cut while this process (in the root namespace, on the bridge's address) still
/// reaches every member. Members listen on 10.77.K.(11+i) inside their namespace; K is the first subnet no interface
/// here uses yet, so concurrent runs do not collide.
/// </summary>
/// <remarks>
/// A link is cut by pinning the peer's address to a neighbour (ARP) entry with a MAC nobody has: packets to it leave
/// and vanish, silently, for established connections and new ones alike — a switch that stopped forwarding, not a
/// refused connection. This kernel has neither netem nor tc filter actions (checked), and iptables is not needed.
/// Requires root and `ip` (iproute2). Disposing deletes the namespaces (ending whatever still runs in them) and the bridge.
/// </remarks>
public sealed class NetworkLab : IDisposable
{
    private const string NowhereMac = "02:00:00:00:00:01";
    private readonly List<string> namespaces = [];
    private readonly HashSet<(int From, int To)> cut = [];
    private bool bridgeCreated;

    private NetworkLab(int subnet, int size)
    {
        Subnet = subnet;
        Prefix = "bwc" + subnet.ToString(CultureInfo.InvariantCulture);
        Size = size;
    }

    public int Subnet { get; }

    public string Prefix { get; }

    public int Size { get; }

    public string Bridge => Prefix + "br";

    public string HostAddress => $"10.77.{Subnet}.1";

    public string Address(int member) => $"10.77.{Subnet}.{11 + member}";

    public string Namespace(int member) => $"{Prefix}n{member + 1}";

    /// <summary>Why namespaces cannot be used here, or null when they can (root, `ip` present).</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces need Linux";
        }

        if (Environment.UserName != "root" && !string.Equals(Environment.GetEnvironmentVariable("USER"), "root", StringComparison.Ordinal))
        {
            return "network namespaces need root (ip netns add); run as root for partition faults";
        }

        if (!File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip") && !File.Exists("/usr/bin/ip"))
        {
            return "the ip command (iproute2) is not installed";
        }

        return null;
    }

    /// <summary>Builds the namespaces and links for <paramref name="size"/> members.</summary>
    public static NetworkLab Create(int size)
    {
        var used = Shell.Run("ip", "-o", "-4", "addr", "show").Output;
        var subnet = Enumerable.Range(100, 150).FirstOrDefault(k => !used.Contains($" 10.77.{k}.", StringComparison.Ordinal) && !LinkExists($"bwc{k}br"));
        if (subnet == 0)
        {
            throw new InvalidOperationException("no free 10.77.K.0/24 subnet for the chaos bridge");
        }

        var lab = new NetworkLab(subnet, size);
        try
        {
            lab.Build();
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    /// <summary>The command line that runs <paramref name="file"/> inside member <paramref name="member"/>'s namespace
    /// (ip netns exec replaces itself with the program, so the pid started is the program's).</summary>
    public (string File, IReadOnlyList<string> Prefix) Exec(int member, string file) => ("ip", ["netns", "exec", Namespace(member), file]);

    /// <summary>Packets from <paramref name="from"/> to <paramref name="to"/> vanish from now on.</summary>
    public void Cut(int from, int to)
    {
        Shell.Must("ip", "netns", "exec", Namespace(from), "ip", "neigh", "replace", Address(to), "lladdr", NowhereMac, "dev", "eth0", "nud", "permanent");
        cut.Add((from, to));
    }

    /// <summary>Restores every cut link (the neighbour entries are resolved again by ARP).</summary>
    public void HealAll()
    {
        foreach (var (from, to) in cut.ToList())
        {
            Shell.Run("ip", "netns", "exec", Namespace(from), "ip", "neigh", "del", Address(to), "dev", "eth0");
            cut.Remove((from, to));
        }
    }

    public IReadOnlyCollection<(int From, int To)> CutLinks => cut;

    public void Dispose()
    {
        foreach (var ns in namespaces)
        {
            // Anything still running in it (a member this run lost track of) goes with it.
            foreach (var pid in Shell.Run("ip", "netns", "pids", ns).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                Shell.Run("kill", "-9", pid);
            }

            Shell.Run("ip", "netns", "del", ns);
        }

        namespaces.Clear();
        if (bridgeCreated)
        {
            Shell.Run("ip", "link", "del", Bridge);
            bridgeCreated = false;
        }
    }

    private static bool LinkExists(string name) => Shell.Run("ip", "link", "show", name).ExitCode == 0;

    private void Build()
    {
        Shell.Must("ip", "link", "add", Bridge, "type", "bridge");
        bridgeCreated = true;
        Shell.Must("ip", "addr", "add", HostAddress + "/24", "dev", Bridge);
        Shell.Must("ip", "link", "set", Bridge, "up");
        for (var i = 0; i < Size; i++)
        {
            var ns = Namespace(i);
            var hostEnd = $"{Prefix}h{i + 1}";
            Shell.Must("ip", "netns", "add", ns);
            namespaces.Add(ns);
            Shell.Must("ip", "link", "add", hostEnd, "type", "veth", "peer", "name", "eth0", "netns", ns);
            Shell.Must("ip", "link", "set", hostEnd, "master", Bridge, "up");
            Shell.Must("ip", "netns", "exec", ns, "ip", "addr", "add", Address(i) + "/24", "dev", "eth0");
            Shell.Must("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up");
            Shell.Must("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
        }
    }
}
