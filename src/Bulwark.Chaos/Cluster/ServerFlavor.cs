using System.Globalization;

namespace Bulwark.Chaos.Cluster;

/// <summary>What a member runs: `bulwark serve` or Debian's etcd, with the same listen addresses and timing.</summary>
public abstract class ServerFlavor
{
    /// <summary>"bulwark" or "etcd", for the report.</summary>
    public abstract string System { get; }

    /// <summary>The program and its arguments for <paramref name="member"/> in a cluster of <paramref name="all"/>.</summary>
    public abstract (string File, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment) CommandLine(MemberSpec member, IReadOnlyList<MemberSpec> all, RaftTiming timing);

    protected static IEnumerable<string> Timing(RaftTiming timing)
    {
        if (timing.HeartbeatMs is { } heartbeat)
        {
            yield return "--heartbeat-interval";
            yield return heartbeat.ToString(CultureInfo.InvariantCulture);
        }

        if (timing.ElectionMs is { } election)
        {
            yield return "--election-timeout";
            yield return election.ToString(CultureInfo.InvariantCulture);
        }
    }

    protected static string InitialCluster(IReadOnlyList<MemberSpec> all) => string.Join(',', all.Select(m => $"{m.Name}={m.PeerUrl}"));
}

/// <summary>`bulwark serve`, started as <paramref name="file"/> with <paramref name="prefix"/> (the apphost, or dotnet bulwark.dll).</summary>
public sealed class BulwarkFlavor(string file, IReadOnlyList<string> prefix) : ServerFlavor
{
    public override string System => "bulwark";

    /// <summary>Start members with --unsafe-fault-injection (only when a fault needs their fault points).</summary>
    public bool FaultInjection { get; init; }

    public override (string File, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment) CommandLine(MemberSpec member, IReadOnlyList<MemberSpec> all, RaftTiming timing)
    {
        ArgumentNullException.ThrowIfNull(member);
        ArgumentNullException.ThrowIfNull(timing);
        IReadOnlyList<string> args =
        [
            .. prefix,
            "serve",
            "--name", member.Name,
            "--initial-cluster", InitialCluster(all),
            "--data-dir", member.DataDir,
            "--listen-client-urls", member.ClientUrl,
            "--listen-peer-urls", member.PeerUrl,
            "--listen-metrics-urls", member.MetricsUrl,
            .. Timing(timing),
            .. (FaultInjection ? (IEnumerable<string>)["--unsafe-fault-injection"] : []),
        ];
        return (file, args, new Dictionary<string, string> { ["BULWARK_LOG_FORMAT"] = "text" });
    }
}

/// <summary>Debian's etcd (3.4) with its defaults except the listen addresses and the given timing.</summary>
public sealed class EtcdFlavor(string binary) : ServerFlavor
{
    public override string System => "etcd";

    /// <summary>etcd on PATH (or the Debian location), or null.</summary>
    public static string? Find()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin").Select(d => Path.Combine(d, "etcd")).FirstOrDefault(File.Exists);
    }

    public override (string File, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment) CommandLine(MemberSpec member, IReadOnlyList<MemberSpec> all, RaftTiming timing)
    {
        ArgumentNullException.ThrowIfNull(member);
        ArgumentNullException.ThrowIfNull(timing);
        IReadOnlyList<string> args =
        [
            "--name", member.Name,
            "--data-dir", member.DataDir,
            "--listen-client-urls", member.ClientUrl,
            "--advertise-client-urls", member.ClientUrl,
            "--listen-peer-urls", member.PeerUrl,
            "--initial-advertise-peer-urls", member.PeerUrl,
            "--listen-metrics-urls", member.MetricsUrl,
            "--initial-cluster", InitialCluster(all),
            "--initial-cluster-state", "new",
            "--initial-cluster-token", "chaos-" + Path.GetFileName(Path.GetDirectoryName(member.DataDir)),
            .. Timing(timing),
        ];
        return (binary, args, new Dictionary<string, string>());
    }
}
