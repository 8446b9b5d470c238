using Bulwark.Verification;

namespace Bulwark.Simulation;

/// <summary>
/// The application a sim node replicates. The KV here is deliberately small; Bulwark.Kv plugs in behind the
/// same interface (translating <see cref="SimCommand"/> into its own requests) so the simulator tests what ships.
/// </summary>
public interface IReplicatedStateMachine
{
    /// <summary>
    /// Applies one committed write and returns what the waiting client is told, or null if this request id was
    /// applied before: the network may deliver a forwarded proposal twice, so the log can hold a command twice,
    /// and request ids make its application exactly-once (dissertation §6.3).
    /// </summary>
    KvOutput? Apply(SimCommand command);

    /// <summary>A local read (linearizable only when the host waited for a read index first).</summary>
    KvOutput Read(string key);

    /// <summary>Whether the write with this request id has been applied (to check acknowledged writes survive).</summary>
    bool HasApplied(long requestId);

    byte[] TakeSnapshot();

    void Restore(ReadOnlySpan<byte> snapshot);

    /// <summary>A hash of the whole state, to compare replicas.</summary>
    ulong Fingerprint();
}
