using Grpc.Net.Client;

namespace Bulwark.Client.Endpoints;

/// <summary>
/// One member's client URL, the gRPC channel to it and what the client knows of it: whether it answered lately, its
/// member id and the leader it names (from its Status).
/// </summary>
internal sealed class Endpoint : IDisposable
{
    private readonly object gate = new();
    private long unhealthyUntil;
    private int consecutiveFailures;

    public Endpoint(Uri url, GrpcChannel channel)
    {
        Url = url;
        Channel = channel;
    }

    public Uri Url { get; }

    public GrpcChannel Channel { get; }

    /// <summary>The member id this endpoint reported in its last Status (0 until it answered one).</summary>
    public ulong MemberId { get; private set; }

    /// <summary>The leader id this endpoint named in its last Status (0: none or unknown).</summary>
    public ulong LeaderId { get; private set; }

    public int ConsecutiveFailures
    {
        get
        {
            lock (gate)
            {
                return consecutiveFailures;
            }
        }
    }

    /// <summary>Whether calls should go here now: no failure since the last success, or its back-off is over.</summary>
    public bool IsHealthy(long now)
    {
        lock (gate)
        {
            return consecutiveFailures == 0 || now >= unhealthyUntil;
        }
    }

    public void Succeeded()
    {
        lock (gate)
        {
            consecutiveFailures = 0;
        }
    }

    /// <summary>Marks a failure; the endpoint is avoided for a back-off that grows with repeated failures (max ~2 s).</summary>
    public void Failed(long now, long ticksPerSecond)
    {
        lock (gate)
        {
            consecutiveFailures++;
            var backoffMs = Math.Min(2000, 250L << Math.Min(consecutiveFailures - 1, 3));
            unhealthyUntil = now + backoffMs * ticksPerSecond / 1000;
        }
    }

    public void Observed(ulong memberId, ulong leaderId)
    {
        lock (gate)
        {
            MemberId = memberId;
            LeaderId = leaderId;
        }
    }

    public override string ToString() => Url.ToString();

    public void Dispose() => Channel.Dispose();
}
