using System.Diagnostics.Metrics;

namespace Bulwark.Client;

/// <summary>
/// The client's counters on the Meter "Bulwark.Client" (System.Diagnostics.Metrics: visible to dotnet-counters,
/// OpenTelemetry, or a MeterListener): calls, retries, failovers between endpoints, sessions lost.
/// </summary>
internal sealed class ClientMetrics
{
    /// <summary>The meter's name, to subscribe to.</summary>
    public const string MeterName = "Bulwark.Client";

    // One meter for the process: instruments are cheap to share and listeners subscribe by name.
    private static readonly Meter Meter = new(MeterName, "0.1.0");
    private static readonly Counter<long> Calls = Meter.CreateCounter<long>("bulwark.client.calls", "{call}", "gRPC calls started (each attempt counts once)");
    private static readonly Counter<long> Retries = Meter.CreateCounter<long>("bulwark.client.retries", "{call}", "call attempts that repeated a failed attempt");
    private static readonly Counter<long> Failovers = Meter.CreateCounter<long>("bulwark.client.failovers", "{failover}", "moves to another endpoint after one failed (calls, watches, keep-alives)");
    private static readonly Counter<long> SessionsLost = Meter.CreateCounter<long>("bulwark.client.sessions_lost", "{session}", "sessions whose lease could no longer be guaranteed");

    public static readonly ClientMetrics Instance = new();

    public void Call(string method) => Calls.Add(1, new KeyValuePair<string, object?>("method", method));

    public void Retry(string method) => Retries.Add(1, new KeyValuePair<string, object?>("method", method));

    public void Failover(string what) => Failovers.Add(1, new KeyValuePair<string, object?>("what", what));

    public void SessionLost(string reason) => SessionsLost.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
