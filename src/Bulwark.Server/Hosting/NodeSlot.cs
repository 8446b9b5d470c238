namespace Bulwark.Server.Hosting;

/// <summary>
/// The node a member's client API serves, filled once <see cref="NodeHost.Start"/> has returned. `bulwark serve` opens
/// its client port before it opens storage and replays the log, so that clients which had a connection to a restarted
/// member reach it at their first reconnect attempt instead of backing off for seconds; until the slot is filled every
/// call that needs the node is refused as "catching up" (<see cref="Api.StartedNodeServiceActivator{TService}"/>) and
/// the health endpoints say "node not started".
/// </summary>
public sealed class NodeSlot
{
    private NodeHost? node;

    /// <param name="options">The options the node is (or will be) started with: the client API needs its limits and
    /// observer before the node exists.</param>
    public NodeSlot(NodeHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
    }

    /// <summary>A slot holding an already started node.</summary>
    public static NodeSlot Of(NodeHost started)
    {
        ArgumentNullException.ThrowIfNull(started);
        var slot = new NodeSlot(started.Options);
        slot.Fill(started);
        return slot;
    }

    public NodeHostOptions Options { get; }

    /// <summary>The started node, or null while it is starting.</summary>
    public NodeHost? Node => Volatile.Read(ref node);

    /// <summary>Hands the started node to the client API; from now on calls are served. Once only.</summary>
    public void Fill(NodeHost started)
    {
        ArgumentNullException.ThrowIfNull(started);
        if (Interlocked.CompareExchange(ref node, started, null) is not null)
        {
            throw new InvalidOperationException("the node slot already holds a started node");
        }
    }

    /// <summary>
    /// What a call that needs the node gets while it is starting: "catching up" (Unavailable, so etcd clients try another
    /// endpoint), refused before reaching any log, so Bulwark.Client may retry it anywhere.
    /// </summary>
    public static NodeException NotStarted() => ServerErrors.CatchingUp().AsNeverProposed();
}
