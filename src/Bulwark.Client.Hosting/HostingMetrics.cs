using System.Diagnostics.Metrics;

namespace Bulwark.Client.Hosting;

/// <summary>
/// The Meter "Bulwark.Client.Hosting": leaderships acquired and lost (tagged with the election and, for losses, why),
/// and how many of this process's services lead right now (an up-down counter: a gauge of 0 or 1 per election).
/// </summary>
internal static class HostingMetrics
{
    public const string MeterName = "Bulwark.Client.Hosting";

    private static readonly Meter Meter = new(MeterName, "0.1.0");

    public static readonly Counter<long> Acquired = Meter.CreateCounter<long>(
        "bulwark.hosting.leadership.acquired", unit: "{leadership}", description: "Campaigns this process won.");

    public static readonly Counter<long> Lost = Meter.CreateCounter<long>(
        "bulwark.hosting.leadership.lost", unit: "{leadership}", description: "Leaderships that ended (tag reason: returned, lost, failed, stopping).");

    public static readonly UpDownCounter<int> IsLeader = Meter.CreateUpDownCounter<int>(
        "bulwark.hosting.is_leader", unit: "{leader}", description: "1 while this process leads the election, else 0.");
}
