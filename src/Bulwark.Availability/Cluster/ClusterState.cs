namespace Bulwark.Availability.Cluster;

/// <summary>What the cluster is doing besides counting failed nodes.</summary>
public enum ClusterMode
{
    /// <summary>No failover pending: up exactly when at least a quorum of nodes is up.</summary>
    Normal,

    /// <summary>A leader failed and the survivors are electing a new one; down until it finishes.</summary>
    FailingOver,

    /// <summary>A leader failure the failover did not cover; down until a failed node is repaired.</summary>
    Uncovered,
}

/// <summary>One state of a generated cluster model: how many nodes are down and in which mode.</summary>
public sealed record ClusterState(int FailedNodes, ClusterMode Mode, bool IsUp)
{
    public string Name => Mode switch
    {
        ClusterMode.Normal => $"{FailedNodes} down",
        ClusterMode.FailingOver => $"{FailedNodes} down, failing over",
        _ => $"{FailedNodes} down, uncovered",
    };
}
