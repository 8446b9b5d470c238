namespace Bulwark.Bench.Compare;

/// <summary>Heartbeat and election timeout given to every node; null means the system's own default.</summary>
public sealed record RaftTiming(int HeartbeatMs, int ElectionMs)
{
    /// <summary>etcd's defaults, used as the "equal settings" for both systems.</summary>
    public static readonly RaftTiming EtcdDefaults = new(100, 1000);

    public override string ToString() => $"heartbeat {HeartbeatMs} ms, election {ElectionMs} ms";
}
