using System.Globalization;
using Bulwark.Server.Hosting;

namespace Bulwark.Server.Admin;

/// <summary>The answer of one health endpoint: HTTP status and a reason for people (empty when healthy).</summary>
public sealed record HealthResult(bool Healthy, string Reason)
{
    public int StatusCode => Healthy ? 200 : 503;
}

/// <summary>
/// The health decisions behind /livez, /readyz, /health, /health/leader and /health/replica, as pure functions of a
/// node status, so a load balancer's view can be tested without sockets.
/// </summary>
public static class HealthCheck
{
    /// <summary>/readyz: a node further than this many committed entries behind in applying is not ready.</summary>
    public const ulong ReadyApplyLag = 1000;

    /// <summary>/health/replica without ?lag=.</summary>
    public const ulong DefaultReplicaLag = 100;

    /// <summary>/livez: whether the node loop runs; null while the node is still starting (storage open, log replay), which
    /// is not live yet either (before the admin listener opened early, that phase refused connections).</summary>
    public static HealthResult Live(bool? loopRunning) => loopRunning switch
    {
        null => new(false, "node not started"),
        true => new(true, ""),
        false => new(false, "node loop stopped"),
    };

    /// <summary>etcd's /health reason while the NOSPACE alarm is raised.</summary>
    public const string NoSpaceReason = "ALARM NOSPACE";

    /// <summary>etcd's /health reason while a CORRUPT alarm is active (replicated: every member reports it).</summary>
    public const string CorruptReason = "ALARM CORRUPT";

    public static HealthResult Ready(NodeStatus? status)
    {
        if (status is null)
        {
            return new(false, "node not started");
        }

        if (status.NoSpaceAlarm)
        {
            return new(false, NoSpaceReason);
        }

        if (status.CorruptAlarm)
        {
            // As etcd's /readyz data_corruption check: a member of a cluster with corrupt data should not get traffic.
            return new(false, CorruptReason);
        }

        if (status.Leader == 0)
        {
            return new(false, "RAFT NO LEADER");
        }

        var lag = Lag(status);
        return lag > ReadyApplyLag
            ? new(false, string.Create(CultureInfo.InvariantCulture, $"applied index {status.Applied} is {lag} entries behind commit {status.Commit} (bound {ReadyApplyLag})"))
            : new(true, "");
    }

    /// <summary>
    /// etcd's /health: unhealthy while an alarm is raised (etcd 3.5 answers {"health":"false","reason":"ALARM NOSPACE"}
    /// or "ALARM CORRUPT" with 503), otherwise healthy when the member knows a leader.
    /// </summary>
    public static HealthResult Etcd(NodeStatus? status) =>
        status is null ? new(false, "node not started")
        : status.NoSpaceAlarm ? new(false, NoSpaceReason)
        : status.CorruptAlarm ? new(false, CorruptReason)
        : status.Leader == 0 ? new(false, "RAFT NO LEADER")
        : new(true, "");

    public static HealthResult Leader(NodeStatus? status) =>
        status is { IsLeader: true } ? new(true, "") : new(false, status is null ? "node not started" : $"not the leader (role {status.Role})");

    /// <summary>A follower that knows a leader and has applied to within <paramref name="maxLag"/> entries of its commit index.</summary>
    public static HealthResult Replica(NodeStatus? status, ulong maxLag)
    {
        if (status is null)
        {
            return new(false, "node not started");
        }

        if (status.IsLeader)
        {
            return new(false, "this member is the leader, not a replica");
        }

        if (status.Leader == 0)
        {
            return new(false, "RAFT NO LEADER");
        }

        var lag = Lag(status);
        return lag > maxLag ? new(false, string.Create(CultureInfo.InvariantCulture, $"lag {lag} entries > {maxLag}")) : new(true, "");
    }

    /// <summary>Parses ?lag=N; a missing value means <see cref="DefaultReplicaLag"/>.</summary>
    public static bool TryParseLag(string? text, out ulong lag, out string error)
    {
        error = "";
        if (string.IsNullOrEmpty(text))
        {
            lag = DefaultReplicaLag;
            return true;
        }

        if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out lag))
        {
            return true;
        }

        error = $"query parameter 'lag' is '{text}', not a non-negative whole number of entries";
        return false;
    }

    private static ulong Lag(NodeStatus status) => status.Commit > status.Applied ? status.Commit - status.Applied : 0;
}
