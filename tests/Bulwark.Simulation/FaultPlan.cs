using System.Text;

namespace Bulwark.Simulation;

/// <summary>
/// Which faults a run injects and how hard, derived from (seed, node count, profile) alone so a seed replays
/// exactly. Profile "mixed" (the default) switches each fault kind on at random per seed; named profiles fix a
/// schedule that makes one kind of bug likely (used by the checker-bites tests).
/// </summary>
public sealed record FaultPlan
{
    public bool Drops { get; init; }
    public bool Duplicates { get; init; }
    public bool Reordering { get; init; }
    public bool Partitions { get; init; }
    public bool AsymmetricPartitions { get; init; }
    public bool Crashes { get; init; }
    public bool TornWrites { get; init; }
    public bool ClockSkew { get; init; }
    public bool Transfers { get; init; }
    public bool MembershipChanges { get; init; }
    public bool Snapshots { get; init; }

    /// <summary>Core settings varied per run.</summary>
    public bool PreVote { get; init; } = true;
    public bool CheckQuorum { get; init; } = true;
    public int MaxInflightMessages { get; init; } = 8;
    public int MaxMessageBytes { get; init; } = 4096;

    /// <summary>Apply this many entries between local snapshots (0 = never compact).</summary>
    public int CompactEvery { get; init; }

    /// <summary>
    /// Entries the log keeps behind each local snapshot (Compact's keepEntries, the host's snapshot-catchup-entries; 0 =
    /// compact exactly at it). Below, at or above <see cref="CompactEvery"/>, so a follower is sent either the tail or
    /// the newest snapshot, never the compaction point.
    /// </summary>
    public int CompactKeep { get; init; }

    /// <summary>Upper bound of a disk sync, microseconds (the window in which a crash loses unsynced writes).</summary>
    public long SyncLatencyMax { get; init; } = 1_000;

    /// <summary>Mean time between injected faults, microseconds.</summary>
    public long FaultInterval { get; init; } = 150_000;

    /// <summary>How long a crashed node stays down, microseconds (upper bound).</summary>
    public long MaxDowntime { get; init; } = 600_000;

    /// <summary>The transport tells the core about peers it could not reach (ReportUnreachable, ReportSnapshotFailure).
    /// Off, the core must recover from lost messages and snapshots on its own timers.</summary>
    public bool TransportReportsFailures { get; init; } = true;

    /// <summary>Peers of a crashed node are told its connections closed (RaftNode.ReportConnectionLost), after a
    /// network delay, unless the link is cut or the notice is lost: what a real transport sees when a process dies.</summary>
    public bool ConnectionLossNotices { get; init; }

    /// <summary>False connection-loss notices about live peers arrive at random (a connection reset while both
    /// processes live): they may cost an election attempt but must never break safety or keep the cluster down.</summary>
    public bool FalseConnectionLoss { get; init; }

    /// <summary>Now and then a live node's disk fills up for a while and is freed again: the production host must hold
    /// its writes, raise the NOSPACE alarm, refuse writes, and resume once its retry finds space.</summary>
    public bool DiskFull { get; init; }

    /// <summary>Steps the membership driver on a schedule of its own, every 0.5-1.5 of this many microseconds (0: only as
    /// one of the random fault kinds). The membership profiles use it to keep a change in flight most of the time.</summary>
    public long MembershipInterval { get; init; }

    /// <summary>Chance that the membership driver, when the cluster is above its size, removes the current leader.</summary>
    public double LeaderRemovalBias { get; init; }

    /// <summary>Chance that a node joins as a learner (then promoted) rather than straight as a voter.</summary>
    public double LearnerChance { get; init; } = 0.6;

    /// <summary>How many fresh nodes the membership driver may add over a run (node ids are never reused).</summary>
    public int MaxJoiningNodes { get; init; } = 4;

    /// <summary>Chance that a crash hits the current leader rather than a random node.</summary>
    public double LeaderCrashBias { get; init; }

    /// <summary>
    /// A scripted fault instead of random ones: once a leader is elected, its link to one follower is cut one way (the
    /// follower hears nothing from it, it still hears the follower) and the other follower is told, falsely and
    /// repeatedly, that its connection to the leader closed. A healthy leader with a majority must keep its term.
    /// </summary>
    public bool CutFollowerAndFalseNotice { get; init; }

    /// <summary>
    /// A scripted fault: once a leader is elected, its host loses every acknowledgement of its appends (a wedged
    /// acknowledgement path) while it keeps ticking and heartbeating: a leader alive but not committing.
    /// </summary>
    public bool StuckLeader { get; init; }

    /// <summary>Chance that a symmetric partition cuts off exactly the current leader (a leader deposed by the rest).</summary>
    public double LeaderPartitionBias { get; init; }

    /// <summary>Odd-numbered clients keep calling the node they last used while it answers, choosing the current leader
    /// when they must choose again: clients pinned to a leader that the rest of the cluster has deposed (the others
    /// pick a node at random, so writes go on through the new leader).</summary>
    public bool StickyClients { get; init; }

    /// <summary>Every client calls the current leader (the highest-term node that thinks it leads) when there is one:
    /// a new leader gets reads from its first moments.</summary>
    public bool LeaderClients { get; init; }

    /// <summary>Chance that the leader crashes at the moment a write is acknowledged to its client, before its next
    /// heartbeat can tell the followers that the write committed.</summary>
    public double LeaderCrashOnAck { get; init; }

    /// <summary>Extra delay-spike chance on top of the reordering setting (late, stale messages).</summary>
    public double DelaySpikeRate { get; init; }

    /// <summary>A client gives up on a read after this long, microseconds (0: the run's client timeout). Short, clients
    /// keep reading through elections instead of waiting on a dead leader; a read given up constrains nothing, so
    /// unlike a write it adds no unknown outcome for the checker.</summary>
    public long ReadTimeout { get; init; }

    /// <summary>Lease clients grant, keep alive, revoke and abandon leases (the "leases" profile).</summary>
    public bool Leases { get; init; }

    public int Clients { get; init; } = 3;
    public int Keys { get; init; } = 3;

    /// <summary>How long faults are injected (the rest of the run checks recovery), microseconds.</summary>
    public long ChaosDuration { get; init; } = 2_000_000;

    public static IReadOnlyList<string> Profiles { get; } =
        ["mixed", "calm", "all", "crash-heavy", "election-storm", "vote-amnesia", "stale-reads", "deposed-leader", "new-leader-reads", "false-notice", "figure8", "leases", "deposed-lease-holder",
         "membership", "snapshot-membership", "stuck-leader"];

    public static FaultPlan For(ulong seed, int nodes, string profile)
    {
        var random = new DeterministicRandom(seed ^ 0x5EED_F417UL).Fork((ulong)nodes);
        var mixed = new FaultPlan
        {
            Drops = random.Chance(0.5),
            Duplicates = random.Chance(0.4),
            Reordering = random.Chance(0.5),
            Partitions = random.Chance(0.6),
            AsymmetricPartitions = random.Chance(0.35),
            Crashes = random.Chance(0.6),
            TornWrites = random.Chance(0.4),
            ClockSkew = random.Chance(0.5),
            Transfers = random.Chance(0.4),
            MembershipChanges = random.Chance(0.35),
            Snapshots = random.Chance(0.5),
            PreVote = random.Chance(0.75),
            CheckQuorum = random.Chance(0.75),
            MaxInflightMessages = random.Chance(0.5) ? 2 : 64,
            MaxMessageBytes = random.Chance(0.5) ? 200 : 64 * 1024,
            CompactEvery = 0,
            LeaderCrashBias = random.Chance(0.3) ? 0.7 : 0,
            TransportReportsFailures = random.Chance(0.5),
            SyncLatencyMax = random.Chance(0.5) ? 3_000 : 300,
            FaultInterval = random.Between(60_000, 300_000),
            MaxDowntime = random.Between(100_000, 1_000_000),
            Clients = (int)random.Between(2, 5),
            Keys = (int)random.Between(1, 4),
        };
        mixed = mixed with { CompactEvery = mixed.Snapshots ? (int)random.Between(5, 40) : 0 };
        // Drawn from a stream of their own, so that adding them changed no other setting of any seed.
        var notices = new DeterministicRandom(seed ^ 0xC105_ED00UL).Fork((ulong)nodes);
        mixed = mixed with { ConnectionLossNotices = notices.Chance(0.7), FalseConnectionLoss = notices.Chance(0.4) };
        var tail = new DeterministicRandom(seed ^ 0x7A11_E000UL).Fork((ulong)nodes);
        mixed = mixed with { CompactKeep = tail.Chance(0.5) ? (int)tail.Between(1, 60) : 0 };
        var disks = new DeterministicRandom(seed ^ 0xD15C_F011UL).Fork((ulong)nodes);
        mixed = mixed with { DiskFull = disks.Chance(0.4) };

        return profile switch
        {
            "mixed" => mixed,
            "calm" => new FaultPlan { Clients = mixed.Clients, Keys = mixed.Keys },
            "all" => mixed with
            {
                Drops = true, Duplicates = true, Reordering = true, Partitions = true, AsymmetricPartitions = true, Crashes = true,
                TornWrites = true, ClockSkew = true, Transfers = true, MembershipChanges = true, Snapshots = true,
                ConnectionLossNotices = true, FalseConnectionLoss = true, DiskFull = true,
                CompactEvery = (int)random.Between(5, 40),
            },
            // Frequent crashes with slow syncs: what is acknowledged but not yet on disk gets lost.
            "crash-heavy" => new FaultPlan
            {
                Crashes = true, Drops = true, Reordering = true, TornWrites = true, PreVote = false, CheckQuorum = false,
                SyncLatencyMax = 20_000, FaultInterval = 40_000, MaxDowntime = 150_000, Clients = 4, Keys = 2,
            },
            // Many elections with crash/restart in between: votes must survive restarts.
            "election-storm" => new FaultPlan
            {
                Crashes = true, Partitions = true, Drops = true, ClockSkew = true, PreVote = false, CheckQuorum = false,
                SyncLatencyMax = 5_000, FaultInterval = 80_000, MaxDowntime = 60_000, Clients = 3, Keys = 2,
            },
            // Very short, very frequent crashes during elections, and late vote requests: a vote forgotten across a
            // restart lets a second candidate win the same term.
            "vote-amnesia" => new FaultPlan
            {
                Crashes = true, Partitions = true, Reordering = true, PreVote = false, CheckQuorum = false,
                DelaySpikeRate = 0.3, SyncLatencyMax = 300, FaultInterval = 15_000, MaxDowntime = 8_000, Clients = 2, Keys = 1,
            },
            // Leaders cut off from the majority keep running: a read served without ReadIndex goes stale.
            "stale-reads" => new FaultPlan
            {
                Partitions = true, AsymmetricPartitions = true, Reordering = true, CheckQuorum = false, PreVote = true,
                FaultInterval = 100_000, Clients = 4, Keys = 1,
            },
            // The leader alone is cut off for long stretches and, with CheckQuorum off, keeps believing it leads, while
            // clients stay pinned to it: a read it answers without confirming leadership misses the new leader's writes.
            "deposed-leader" => new FaultPlan
            {
                Partitions = true, CheckQuorum = false, PreVote = true, LeaderPartitionBias = 0.9, StickyClients = true,
                FaultInterval = 120_000, Clients = 5, Keys = 1,
            },
            // Leaders crash often and clients follow the new leader at once, while the old leader's last writes are
            // acknowledged but the new leader does not know yet that they committed: its first reads must wait for an
            // entry of its own term to commit.
            "new-leader-reads" => new FaultPlan
            {
                Crashes = true, Reordering = true, PreVote = false, CheckQuorum = false, LeaderClients = true, LeaderCrashOnAck = 0.2,
                LeaderCrashBias = 0.9, MaxMessageBytes = 1, MaxInflightMessages = 1, SyncLatencyMax = 20_000, FaultInterval = 150_000, MaxDowntime = 60_000,
                ReadTimeout = 30_000, Clients = 5, Keys = 1,
            },
            // Issue 10's scenario: leader->F2 cut one way, false connection-loss notices about the leader at F1.
            "false-notice" => new FaultPlan { CutFollowerAndFalseNotice = true, Clients = mixed.Clients, Keys = mixed.Keys },
            // A leader alive but not committing (its acknowledgements are lost at its host), with lost, duplicated and
            // reordered messages as the seed draws them; nothing else moves leadership, so its replacement is the
            // followers' no-progress reports' doing.
            "stuck-leader" => new FaultPlan
            {
                StuckLeader = true, Drops = mixed.Drops, Duplicates = mixed.Duplicates, Reordering = mixed.Reordering,
                MaxInflightMessages = mixed.MaxInflightMessages, MaxMessageBytes = mixed.MaxMessageBytes, SyncLatencyMax = mixed.SyncLatencyMax,
                Clients = mixed.Clients, Keys = mixed.Keys,
            },
            // Leaders crash and partitions shift often while entries are half-replicated (Raft paper, Figure 8).
            // One entry per message so acknowledgements of an old-term entry arrive before the new leader's no-op.
            "figure8" => new FaultPlan
            {
                Crashes = true, Partitions = true, Reordering = true, PreVote = false, CheckQuorum = false,
                LeaderCrashBias = 0.9, MaxMessageBytes = 1, MaxInflightMessages = 1,
                SyncLatencyMax = 2_000, FaultInterval = 25_000, MaxDowntime = 120_000, Clients = 4, Keys = 2,
            },
            // Lease clients next to the KV clients, under the faults that move leadership or cut clients off: crashes,
            // partitions (a deposed leader that keeps believing it leads), transfers, skewed clocks, lost messages.
            // Longer, so that leases of 1-2 s are granted, kept, abandoned and expired several times over.
            "leases" => mixed with
            {
                Leases = true, Crashes = true, Partitions = true, Transfers = true, ClockSkew = true, MembershipChanges = false,
                DiskFull = false, ChaosDuration = 6_000_000,
            },
            // The leader alone is cut off for long stretches and, with CheckQuorum off, keeps believing it leads while
            // lease clients pinned to it send their keep-alives: a keep-alive it renews without confirming its
            // leadership promises a TTL the new leader never heard of.
            "deposed-lease-holder" => new FaultPlan
            {
                Leases = true, Partitions = true, CheckQuorum = false, PreVote = true, LeaderPartitionBias = 0.9,
                FaultInterval = 400_000, ChaosDuration = 6_000_000, Clients = 2, Keys = 1,
            },
            // Members replaced one after another under crashes, partitions and lost messages: nodes join as learners
            // and are promoted, and the voter removed to make room is the leader most of the time, so a leader must
            // commit its own removal and step down while faults move leadership around it.
            "membership" => mixed with
            {
                MembershipChanges = true, Crashes = true, Partitions = true, Drops = true, Transfers = false, DiskFull = false,
                MembershipInterval = 90_000, LeaderRemovalBias = 0.7, LearnerChance = 0.85, MaxJoiningNodes = 10,
                LeaderCrashBias = 0.3, Snapshots = true, CompactEvery = (int)random.Between(10, 40),
                ChaosDuration = 3_000_000,
            },
            // Snapshots every few entries keeping almost no log behind them, and membership changes in quick
            // succession: a joining node, or one lagging behind a partition or a crash, is sent a snapshot while a
            // change is in flight or just committed, and must combine the snapshot's membership with the changes
            // the log carries after it.
            "snapshot-membership" => mixed with
            {
                MembershipChanges = true, Snapshots = true, Crashes = true, Partitions = true, Drops = true, Transfers = false,
                DiskFull = false, AsymmetricPartitions = false,
                CompactEvery = (int)random.Between(3, 8), CompactKeep = (int)random.Between(0, 2),
                MembershipInterval = 50_000, LeaderRemovalBias = 0.4, LearnerChance = 0.7, MaxJoiningNodes = 10,
                ChaosDuration = 3_000_000, Clients = 4,
            },
            _ => throw new ArgumentException($"unknown fault profile '{profile}'; known: {string.Join(", ", Profiles)}", nameof(profile)),
        };
    }

    /// <summary>The fault kinds switched on, for reports.</summary>
    public string Kinds()
    {
        var kinds = new StringBuilder();
        void Add(bool on, string name)
        {
            if (on)
            {
                kinds.Append(kinds.Length > 0 ? "," : "").Append(name);
            }
        }

        Add(Drops, "drop");
        Add(Duplicates, "dup");
        Add(Reordering, "reorder");
        Add(Partitions, "partition");
        Add(AsymmetricPartitions, "asym");
        Add(Crashes, "crash");
        Add(TornWrites, "torn");
        Add(ClockSkew, "skew");
        Add(Transfers, "transfer");
        Add(MembershipChanges, "membership");
        Add(Snapshots, "snapshot");
        Add(ConnectionLossNotices, "closed");
        Add(FalseConnectionLoss, "false-closed");
        Add(DiskFull, "diskfull");
        Add(StuckLeader, "stuck-leader");
        return kinds.Length == 0 ? "none" : kinds.ToString();
    }

    /// <summary>Every fault kind this plan can switch on, in <see cref="Kinds"/> spelling.</summary>
    public static IReadOnlyList<string> AllKinds { get; } =
        ["drop", "dup", "reorder", "partition", "asym", "crash", "torn", "skew", "transfer", "membership", "snapshot", "closed",
         "false-closed", "diskfull"];
}
