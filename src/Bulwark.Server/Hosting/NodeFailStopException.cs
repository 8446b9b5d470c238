namespace Bulwark.Server.Hosting;

/// <summary>The node stopped itself because continuing could lose or invent acknowledged writes (see the inner exception).</summary>
public sealed class NodeFailStopException(ulong nodeId, Exception cause)
    : Exception($"node {nodeId:x} stopped (fail-stop): {cause.Message}", cause)
{
    public ulong NodeId { get; } = nodeId;
}
