using System.Diagnostics;
using System.Reflection;
using Bulwark.Api.V1;
using Bulwark.Server.Hosting;

namespace Bulwark.Server.Observability;

/// <summary>
/// One member's vital signs as the status page shows them (bulwark.v1.Node.Vitals on the wire): what etcd's Status has
/// no field for. Built from the member's own node and observability, or from its Vitals answer for another member.
/// </summary>
public sealed record MemberVitals(
    string Version,
    DateTimeOffset StartedAt,
    double UptimeSeconds,
    int Restarts,
    IReadOnlyList<string> Alarms,
    long Revision,
    long CompactRevision,
    long Keys,
    int PutSamples,
    double? PutP50Ms,
    double? PutP99Ms,
    double PutWindowSeconds)
{
    /// <summary>This process's start: a member's uptime is its process's (one member per process in production).</summary>
    public static readonly DateTimeOffset ProcessStartedAt = new(Process.GetCurrentProcess().StartTime.ToUniversalTime());

    /// <summary>Bulwark's build version (the assembly's informational version).</summary>
    public static readonly string BuildVersion =
        typeof(MemberVitals).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static MemberVitals Local(NodeObservability observability, NodeHost node, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(observability);
        ArgumentNullException.ThrowIfNull(node);
        var (revision, compacted, keys) = node.Read(store => (store.Revision, store.CompactRevision, store.LiveKeyCount));
        var latency = observability.PutLatency.Summary();
        return new MemberVitals(BuildVersion, ProcessStartedAt, Math.Max(0, (now - ProcessStartedAt).TotalSeconds), observability.Restarts,
            // The alarms about this member: its NOSPACE, and a CORRUPT alarm that names it (every member holds that one).
            [.. node.Alarms.Where(a => a.MemberId == node.MemberId).Select(a => a.Name)], revision, compacted, keys,
            latency?.Samples ?? 0, latency?.P50Ms, latency?.P99Ms, observability.PutLatency.Window.TotalSeconds);
    }

    public static MemberVitals From(VitalsResponse answer, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var started = DateTimeOffset.FromUnixTimeMilliseconds(answer.StartedUnixMs);
        return new MemberVitals(answer.Version, started, Math.Max(0, (now - started).TotalSeconds), answer.Restarts, [.. answer.Alarms],
            answer.Revision, answer.CompactRevision, answer.Keys, answer.PutSamples,
            answer.HasPutP50Ms ? answer.PutP50Ms : null, answer.HasPutP99Ms ? answer.PutP99Ms : null, answer.PutWindowSeconds);
    }

    public VitalsResponse ToResponse(ulong memberId, string name)
    {
        var response = new VitalsResponse
        {
            MemberId = memberId,
            Name = name,
            Version = Version,
            StartedUnixMs = StartedAt.ToUnixTimeMilliseconds(),
            Restarts = Restarts,
            Revision = Revision,
            CompactRevision = CompactRevision,
            Keys = Keys,
            PutSamples = PutSamples,
            PutWindowSeconds = PutWindowSeconds,
        };
        response.Alarms.Add(Alarms);
        if (PutP50Ms is { } p50)
        {
            response.PutP50Ms = p50;
        }

        if (PutP99Ms is { } p99)
        {
            response.PutP99Ms = p99;
        }

        return response;
    }
}
