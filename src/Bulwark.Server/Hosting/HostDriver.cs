using Bulwark.Consensus;

namespace Bulwark.Server.Hosting;

/// <summary>
/// How a driver other than <see cref="NodeHost"/> runs the production host: the deterministic simulator drives the
/// same <see cref="ReadyProcessor"/>, <see cref="Bulwark.Storage.NodeStorage"/> and <see cref="ApplyWorker"/> on
/// virtual time from one thread. <see cref="Production"/> (every member unset) is exactly what NodeHost runs.
/// </summary>
public sealed record HostDriver
{
    /// <summary>What NodeHost runs: the apply worker on its own thread, snapshot sends off the loop on the thread pool.</summary>
    public static readonly HostDriver Production = new();

    /// <summary>Adjusts the core's settings the host derives from <see cref="NodeHostOptions"/> (the simulator varies
    /// pre-vote, check-quorum and message limits per run, and switches on the core's test faults).</summary>
    public Func<RaftConfig, RaftConfig>? ConfigureCore { get; init; }

    /// <summary>The core's randomness (election timeouts); null seeds one from the options.</summary>
    public IRandomSource? Random { get; init; }

    /// <summary>
    /// The membership a brand-new node bootstraps from; null means the initial cluster. A node that joins a running
    /// cluster starts from the founding membership too: the log after index 0 holds every change since.
    /// </summary>
    public ClusterConfig? BootstrapConfig { get; init; }

    /// <summary>
    /// Run the apply worker inline, with no thread: every piece of work handed to it (applying, answering calls,
    /// installing and writing snapshots) runs to its end on the caller before the hand-off returns.
    /// </summary>
    public bool InlineApply { get; init; }

    /// <summary>
    /// The host's monotonic clock for gray-failure detection (a leader's silence, its own fsync latency); null is the
    /// system clock. The simulator passes its virtual time so a seed's run stays the same.
    /// </summary>
    public TimeProvider? Time { get; init; }

    /// <summary>Test-only: what the simulator's checkers watch (null in production).</summary>
    public IHostTestObserver? TestObserver { get; init; }

    /// <summary>Test-only: deliberate host bugs the simulator must catch (none in production).</summary>
    public HostTestFaults TestFaults { get; init; } = HostTestFaults.None;
}

/// <summary>
/// Test-only: what the simulator's safety checkers need to see of a running host. Calls come from the loop (or, for
/// the apply calls, from the apply worker, which the simulator runs inline on the loop).
/// </summary>
public interface IHostTestObserver
{
    /// <summary>A Ready's snapshot, entries and hard state were written to the log (not yet synced).</summary>
    void Written(Ready ready);

    /// <summary>The apply worker applied an entry; <paramref name="config"/> is the membership as of it, and
    /// <paramref name="store"/> the key-value store right after it (read it only during the call: the store lock is held).</summary>
    void Applied(Entry entry, ClusterConfig config, Bulwark.Kv.MvccStore store);

    /// <summary>The apply worker installed a snapshot from the leader.</summary>
    void Installed(SnapshotMetadata metadata);
}

/// <summary>
/// Test-only: deliberate bugs in the host's handling of a Ready (and in its apply worker), so the simulator can prove its checkers catch them.
/// Every switch is off by default; with all off the host behaves exactly as in production.
/// </summary>
public sealed record HostTestFaults
{
    public static readonly HostTestFaults None = new();

    /// <summary>MessagesAfterPersist (acknowledgements, votes) are sent right after the write, before the sync.</summary>
    public bool AckBeforePersist { get; init; }

    /// <summary>Hard state is written with the vote dropped, so a restarted node can vote twice in a term.</summary>
    public bool VoteNotPersisted { get; init; }

    /// <summary>
    /// The apply worker applies every command as if the member had made it itself (its caller dropped), so the state
    /// machine's permission check never runs: writes auth should refuse take effect.
    /// </summary>
    public bool ApplyWithoutPermissionCheck { get; init; }
}
