namespace Bulwark.Chaos.Cluster;

/// <summary>Where one member listens (on <see cref="Host"/>: 127.0.0.1, or its namespace's address) and keeps its data.</summary>
public sealed record MemberSpec(string Name, string Host, int ClientPort, int PeerPort, int MetricsPort, string DataDir)
{
    public string ClientUrl => $"http://{Host}:{ClientPort}";

    public string PeerUrl => $"http://{Host}:{PeerPort}";

    public string MetricsUrl => $"http://{Host}:{MetricsPort}";
}

/// <summary>Raft timing passed to every member; null fields keep the system's own default.</summary>
public sealed record RaftTiming(int? HeartbeatMs, int? ElectionMs);
