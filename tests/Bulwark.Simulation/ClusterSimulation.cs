using Bulwark.Consensus;
using Bulwark.Server.Hosting;
using Bulwark.Verification;

namespace Bulwark.Simulation;

/// <summary>
/// One seeded run: a cluster of real <see cref="RaftNode"/>s under faults for a while, then healed, then checked.
/// <list type="number">
/// <item>chaos: clients run while the plan's faults are injected;</item>
/// <item>heal: the network is made reliable, crashed nodes restart, faults and new client calls stop;</item>
/// <item>liveness: a leader must appear and commit a probe write on every member within a bounded number of ticks;</item>
/// <item>drain and check: outstanding calls finish, then replicas, logs, acknowledged writes and the client
/// history are checked.</item>
/// </list>
/// </summary>
public sealed class ClusterSimulation
{
    private const long ProbeKeyRequestBase = -1_000_000;
    private readonly SimulationOptions options;
    private readonly SimWorld world;
    private readonly SortedDictionary<ulong, SimNode> nodes = [];
    private readonly SortedSet<ulong> joined = [];
    private readonly DeterministicRandom faults;

    /// <summary>Connection-loss notices draw from their own stream (not forked from the world's, which would shift
    /// every node's), so runs without them are exactly what they were before they existed.</summary>
    private readonly DeterministicRandom connectionLoss;
    private readonly DeterministicRandom diskFull;
    private readonly Workload workload;
    private readonly LeaseWorkload? leases;
    private readonly AuthAdmin? authAdmin;
    private readonly MembershipDriver membership;
    private readonly ClusterConfig foundingConfig;
    private ClusterConfig latestConfig;
    private ulong latestConfigIndex;
    private bool chaos = true;
    private List<SimNode>? running;
    private int crashes;
    private int livenessTicks = -1;

    /// <summary>Nominal ticks from wedging the leader (<see cref="FaultPlan.StuckLeader"/>) to another leader of a later term; -1 = not (yet).</summary>
    private int stuckLeaderReplacedTicks = -1;

    private ClusterSimulation(SimulationOptions options)
    {
        if (options.Nodes is < 1 or > 9)
        {
            throw new ArgumentException($"node count {options.Nodes} is out of range (1-9)", nameof(options));
        }

        this.options = options;
        var plan = FaultPlan.For(options.Seed, options.Nodes, options.Profile);
        latestConfig = ClusterConfig.Of([.. Enumerable.Range(1, options.Nodes).Select(i => (ulong)i)]);
        foundingConfig = latestConfig;
        world = new SimWorld(options.Seed, plan, options.Sabotage, options.KeepTrace, Deliver, foundingConfig) { GrayFailure = options.GrayFailure, NoProgressReports = options.NoProgressReports };
        faults = world.Random.Fork(3);
        connectionLoss = new DeterministicRandom(options.Seed ^ 0xC105_ED00_0000_0001UL);
        diskFull = new DeterministicRandom(options.Seed ^ 0xD15C_F011_0000_0001UL);
        world.ConfigApplied += OnConfigApplied;
        world.Network.Undeliverable = OnUndeliverable;
        workload = new Workload(world, new SimHistory(world.Scheduler), RunningNodes, FindLeader, options.ClientTimeout, OnWriteAcknowledged, options.Auth);
        // From a stream of its own, so that runs without auth are the same as before it existed.
        authAdmin = options.Auth ? new AuthAdmin(world, new DeterministicRandom(options.Seed ^ 0xA07E_0000_0000_0001UL), RunningNodes, FindLeader, options.ClientTimeout) : null;
        membership = new MembershipDriver(world, faults, options.Nodes, FindLeader, AddNode);
        // From a stream of its own, so that runs without lease clients are the same as before they existed.
        leases = plan.Leases ? new LeaseWorkload(world, new DeterministicRandom(options.Seed ^ 0x1EA5_E5EDUL), RunningNodes, FindLeader) : null;
    }

    public static SimulationResult Run(SimulationOptions options) => new ClusterSimulation(options).Execute();

    private SimulationResult Execute()
    {
        var linearizability = CheckVerdict.Unknown;
        try
        {
            // A run stops at its first violation: what follows a broken invariant (message storms between
            // diverged logs, say) only costs time and buries the first report.
            bool Failed() => world.Monitor.Violations.Count > 0;
            Boot();
            if (authAdmin is not null)
            {
                // The clients call as the user, so they start once auth is on.
                authAdmin.Start(workload.Start);
            }
            else
            {
                workload.Start();
            }

            leases?.Start();
            ScheduleNextFault();
            if (world.Plan.FalseConnectionLoss)
            {
                ScheduleNextFalseConnectionLoss();
            }

            if (world.Plan.CutFollowerAndFalseNotice)
            {
                world.Scheduler.After(300_000, CutOneFollowerAndLieToTheOther);
            }

            if (world.Plan.StuckLeader)
            {
                world.Scheduler.After(300_000, WedgeTheLeader);
            }

            if (world.Plan.DiskFull)
            {
                ScheduleNextDiskFull();
            }

            if (world.Plan.MembershipInterval > 0)
            {
                ScheduleNextMembershipStep();
            }

            world.Scheduler.RunUntil(world.Plan.ChaosDuration, Failed);
            if (!Failed())
            {
                Heal();
                CheckLiveness();
            }

            if (!Failed() && leases is not null)
            {
                CheckLeasesExpire();
            }

            if (!Failed())
            {
                Drain();
                FinalChecks();
                linearizability = CheckHistory();
            }
        }
        catch (RaftInvariantException e)
        {
            world.Monitor.Fail($"core invariant broken: {e.Message}");
        }
        catch (SimulationException e)
        {
            world.Monitor.Fail($"simulation: {e.Message}");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or NullReferenceException or IndexOutOfRangeException or KeyNotFoundException or FormatException)
        {
            world.Monitor.Fail($"unexpected {e.GetType().Name}: {e.Message}{Environment.NewLine}{e.StackTrace}");
        }

        var history = workload.History;
        var stats = new SimulationStats(
            world.Scheduler.EventsRun,
            world.Scheduler.Now,
            world.Network.Sent,
            world.Network.Dropped,
            history.Completed,
            history.Unknown,
            world.Monitor.LeadersElected,
            crashes,
            livenessTicks,
            world.Monitor.HighestApplied,
            world.Monitor.OldTermCommits,
            history.SwapsSucceeded,
            history.SwapsFailed,
            nodes.Values.Sum(n => n.WriteHolds),
            nodes.Values.Sum(n => n.WriteResumes),
            nodes.Values.Sum(n => n.NoSpaceRefusals))
        {
            LeasePromises = world.Leases.KeepAlivesPromised,
            LeasesExpired = world.Leases.Expired,
            LeaseReads = world.Leases.ReadsChecked,
            Promotions = world.Membership.Promotions,
            LeaderRemovals = world.Membership.LeaderRemovals,
            MembersAdded = world.Membership.Additions,
            SnapshotInstalls = world.Membership.SnapshotInstalls,
            InstallsNearConfigChange = world.Membership.InstallsNearConfigChange,
            InstallsWithConfigInFlight = world.Membership.InstallsWithConfigInFlight,
            InstallsOnJoiningNodes = world.Membership.InstallsOnJoiningNodes,
            AuthAllowed = workload.AuthAllowed,
            AuthDenied = workload.AuthDenied,
            AuthDeniedOwnKeys = workload.AuthDeniedOwnKeys,
            AuditReads = workload.AuditReads,
            AuthChanges = authAdmin?.ChangesApplied ?? 0,
            AuthRevocations = authAdmin?.Revocations ?? 0,
            StaleAuthRetries = nodes.Values.Sum(n => n.StaleAuthRetries),
            NoProgressReports = nodes.Values.Sum(n => n.NoProgressReports),
            NoProgressCampaigns = nodes.Values.Sum(n => n.NoProgressCampaigns),
            StuckLeaderReplacedTicks = stuckLeaderReplacedTicks,
        };
        return new SimulationResult(options, world.Plan, world.Monitor.Violations, world.Hash.Value, linearizability, stats, world.TraceLines);
    }

    private void Boot()
    {
        foreach (var id in latestConfig.Voters)
        {
            var node = CreateNode(id);
            joined.Add(id);
            world.Scheduler.After(faults.Between(0, options.TickMicros), node.Start);
        }

        var plan = world.Plan;
        world.Network.Conditions = new NetworkConditions(
            plan.Drops ? 0.02 + faults.NextDouble() * 0.1 : 0,
            plan.Duplicates ? 0.01 + faults.NextDouble() * 0.08 : 0,
            (plan.Reordering ? 0.02 + faults.NextDouble() * 0.08 : 0) + plan.DelaySpikeRate,
            500,
            plan.Reordering ? 8_000 : 2_000);
    }

    private SimNode CreateNode(ulong id)
    {
        var skew = world.Plan.ClockSkew ? 0.8 + faults.NextDouble() * 0.45 : 1.0;
        var config = new RaftConfig
        {
            Id = id,
            ElectionTicks = 10,
            HeartbeatTicks = 1,
            PreVote = world.Plan.PreVote,
            CheckQuorum = world.Plan.CheckQuorum,
            MaxInflightMessages = world.Plan.MaxInflightMessages,
            MaxMessageBytes = world.Plan.MaxMessageBytes,
            TestFaults = new RaftTestFaults
            {
                CommitPreviousTermEntriesByCount = options.Sabotage.HasFlag(Sabotage.CommitPreviousTermEntriesByCount),
                GrantVoteIgnoringLogFreshness = options.Sabotage.HasFlag(Sabotage.GrantVoteIgnoringLogFreshness),
                ReadIndexWithoutQuorumCheck = options.Sabotage.HasFlag(Sabotage.ReadIndexWithoutQuorumCheck),
                ReadIndexBeforeTermCommit = options.Sabotage.HasFlag(Sabotage.ReadIndexBeforeTermCommit),
            },
        };
        var fsSeed = (int)(faults.NextULong() & int.MaxValue);
        var snapshotThreshold = world.Plan.CompactEvery > 0 ? (ulong)world.Plan.CompactEvery : NodeHostOptions.DefaultSnapshotThreshold;
        // Every node, founding or joining later, bootstraps from the founding membership at index 0: the log after it
        // holds every change since, so replaying it (or a snapshot) yields the current membership. A joining node
        // started without it would rebuild its membership from the changes alone and could think itself the only voter.
        var node = new SimNode(world, config, foundingConfig, snapshotThreshold, fsSeed, (long)(options.TickMicros * skew), options.TickMicros);
        nodes[id] = node;
        world.Leases.NoteClock(node.TickInterval, options.TickMicros);
        running = null;
        return node;
    }

    private SimNode AddNode(ulong id)
    {
        if (nodes.TryGetValue(id, out var existing))
        {
            return existing;
        }

        var node = CreateNode(id);
        node.Start();
        return node;
    }

    private bool Deliver(Message message)
    {
        if (!nodes.TryGetValue(message.To, out var node) || !node.IsUp)
        {
            return false;
        }

        world.TraceDelivery(message);
        node.Receive(message);
        if (message.Type == MessageType.Snapshot)
        {
            // The whole snapshot arrived: the sender's transport reports the send done, as the peer transport does.
            world.Scheduler.After(1, () =>
            {
                if (nodes.TryGetValue(message.From, out var sender))
                {
                    sender.ReportSnapshotSent(message.To);
                }
            });
        }

        return true;
    }

    /// <summary>The sender's transport notices a failed connection a little later and tells its core.</summary>
    private void OnUndeliverable(Message message)
    {
        // A snapshot's failure is always reported, as the peer transport does (the leader waits for that report, or
        // for the report that it was sent, before it gives up on a snapshot); other reports only when the plan says.
        if (message.Type is not (MessageType.Append or MessageType.Snapshot) ||
            (!world.Plan.TransportReportsFailures && message.Type != MessageType.Snapshot))
        {
            return;
        }

        world.Scheduler.After(5 * options.TickMicros, () =>
        {
            if (nodes.TryGetValue(message.From, out var sender))
            {
                sender.ReportUndeliverable(message);
            }
        });
    }

    private IReadOnlyList<SimNode> RunningNodes() => running ??= nodes.Values.Where(n => !n.IsRetired).ToList();

    private SimNode? FindLeader()
    {
        SimNode? best = null;
        ulong bestTerm = 0;
        foreach (var node in nodes.Values)
        {
            if (node.SoftState is { Role: Role.Leader } soft && soft.Term >= bestTerm)
            {
                best = node;
                bestTerm = soft.Term;
            }
        }

        return best;
    }

    private void OnConfigApplied(ulong node, ulong index, ClusterConfig config)
    {
        if (index <= latestConfigIndex)
        {
            return;
        }

        latestConfig = config;
        latestConfigIndex = index;
        foreach (var member in config.AllMembers)
        {
            joined.Add(member);
        }

        // A member removed by a committed change is stopped once it had a moment to hear the news.
        foreach (var id in joined.Where(id => !config.AllMembers.Contains(id)).ToList())
        {
            world.Scheduler.After(20_000, () =>
            {
                if (!latestConfig.AllMembers.Contains(id) && nodes.TryGetValue(id, out var removed) && !removed.IsRetired)
                {
                    removed.Retire();
                    NoticeConnectionsClosed(id);
                    running = null;
                    world.Trace(id, "retired", (long)latestConfigIndex, 0);
                }
            });
        }
    }

    private void ScheduleNextFault()
    {
        var interval = world.Plan.FaultInterval;
        world.Scheduler.After(faults.Between(interval / 2, interval * 3 / 2), () =>
        {
            if (!chaos)
            {
                return;
            }

            InjectFault();
            ScheduleNextFault();
        });
    }

    private void InjectFault()
    {
        var plan = world.Plan;
        var kinds = new List<Action>();
        if (plan.Crashes)
        {
            kinds.Add(CrashSomeNode);
        }

        if (plan.Partitions || plan.AsymmetricPartitions)
        {
            kinds.Add(Partition);
        }

        if (plan.Transfers)
        {
            kinds.Add(TransferLeadership);
        }

        if (plan.MembershipChanges)
        {
            kinds.Add(membership.Step);
        }

        if (kinds.Count > 0)
        {
            faults.Pick(kinds)();
        }
    }

    /// <summary>The membership profiles step the driver on a schedule of their own, next to the random faults.</summary>
    private void ScheduleNextMembershipStep()
    {
        var interval = world.Plan.MembershipInterval;
        world.Scheduler.After(faults.Between(interval / 2, interval * 3 / 2), () =>
        {
            if (!chaos)
            {
                return;
            }

            membership.Step();
            ScheduleNextMembershipStep();
        });
    }

    /// <summary>With <see cref="FaultPlan.LeaderCrashOnAck"/>, the leader dies right after acknowledging a write.</summary>
    private void OnWriteAcknowledged()
    {
        if (!chaos || world.Plan.LeaderCrashOnAck <= 0 || !faults.Chance(world.Plan.LeaderCrashOnAck) || FindLeader() is not { IsUp: true } leader)
        {
            return;
        }

        // After the current event: the acknowledgement is already on its way, the next heartbeat is not.
        world.Scheduler.After(0, () =>
        {
            if (leader.IsUp)
            {
                Crash(leader);
            }
        });
    }

    private void CrashSomeNode()
    {
        var up = nodes.Values.Where(n => n.IsUp).ToList();
        if (up.Count == 0)
        {
            return;
        }

        var leader = FindLeader();
        Crash(leader is not null && faults.Chance(world.Plan.LeaderCrashBias) ? leader : faults.Pick(up));
    }

    private void Crash(SimNode victim)
    {
        victim.Crash();
        NoticeConnectionsClosed(victim.Id);
        crashes++;
        world.Scheduler.After(faults.Between(5_000, world.Plan.MaxDowntime), () =>
        {
            if (!victim.IsUp && !victim.IsRetired)
            {
                victim.Start();
            }
        });
    }

    /// <summary>
    /// A dead process's sockets close at once: each peer's transport sees that after a network delay, unless the
    /// link is cut or the notice is lost (the peer then finds out from its election timer, as without notices).
    /// </summary>
    private void NoticeConnectionsClosed(ulong lost)
    {
        if (!world.Plan.ConnectionLossNotices)
        {
            return;
        }

        var conditions = world.Network.Conditions;
        foreach (var peer in nodes.Values)
        {
            if (peer.Id == lost || !peer.IsUp || world.Network.IsCut(lost, peer.Id) || connectionLoss.Chance(conditions.DropRate))
            {
                continue;
            }

            world.Scheduler.After(connectionLoss.Between(conditions.MinLatency, conditions.MaxLatency), () => peer.ReportConnectionLost(lost));
        }
    }

    /// <summary>Now and then a live node is told falsely that a peer's connection closed, mostly its leader's.</summary>
    private void ScheduleNextFalseConnectionLoss()
    {
        var interval = world.Plan.FaultInterval;
        world.Scheduler.After(connectionLoss.Between(interval / 4, interval), () =>
        {
            if (!chaos)
            {
                return;
            }

            var up = nodes.Values.Where(n => n.IsUp).ToList();
            if (up.Count >= 2)
            {
                var node = connectionLoss.Pick(up);
                var leader = node.SoftState?.Leader ?? 0;
                var peer = leader != 0 && leader != node.Id && connectionLoss.Chance(0.8)
                    ? leader
                    : connectionLoss.Pick(up.Where(n => n != node).ToList()).Id;
                node.ReportConnectionLost(peer);
            }

            ScheduleNextFalseConnectionLoss();
        });
    }

    /// <summary>
    /// <see cref="FaultPlan.CutFollowerAndFalseNotice"/>: F2 stops hearing the leader (its pre-votes still reach the
    /// others), and F1, which hears the leader fine, is told every 50 ms that the leader's connection closed. Neither may
    /// cost the leader its term: F1 still hears heartbeats, so it must keep honouring the leader's lease.
    /// </summary>
    private void CutOneFollowerAndLieToTheOther()
    {
        if (FindLeader() is not { } leader)
        {
            world.Scheduler.After(50_000, CutOneFollowerAndLieToTheOther);
            return;
        }

        var followers = RunningNodes().Where(n => n.Id != leader.Id).OrderBy(n => n.Id).ToList();
        if (followers.Count < 2)
        {
            return;
        }

        world.Network.CutOneWay(leader.Id, followers[1].Id);
        world.Trace(leader.Id, "cut-one-way", (long)followers[1].Id, 0);
        void Lie()
        {
            if (!chaos)
            {
                return;
            }

            followers[0].ReportConnectionLost(leader.Id);
            world.Scheduler.After(50_000, Lie);
        }

        Lie();
    }

    /// <summary>
    /// <see cref="FaultPlan.StuckLeader"/>: once there is a leader, its host stops handling the acknowledgements of its
    /// appends (they reach it and are lost there; its loop still ticks, heartbeats, answers and accepts proposals). It
    /// stays the leader for check-quorum and for every follower's lease, and commits nothing: only the followers'
    /// no-progress reports can replace it. Records how many nominal ticks that took.
    /// </summary>
    private void WedgeTheLeader()
    {
        if (FindLeader() is not { } leader || leader.SoftState is not { } soft)
        {
            world.Scheduler.After(options.TickMicros, WedgeTheLeader);
            return;
        }

        leader.AcknowledgementsWedged = true;
        var wedgedAt = world.Scheduler.Now;
        world.Trace(leader.Id, "wedge-acks", (long)soft.Term, 0);
        void Watch()
        {
            if (FindLeader() is { } now && now.Id != leader.Id && now.SoftState is { } current && current.Term > soft.Term)
            {
                stuckLeaderReplacedTicks = (int)((world.Scheduler.Now - wedgedAt) / options.TickMicros);
                world.Trace(now.Id, "stuck-leader-replaced", stuckLeaderReplacedTicks, (long)current.Term);
                return;
            }

            if (chaos)
            {
                world.Scheduler.After(options.TickMicros, Watch);
            }
        }

        Watch();
    }

    /// <summary>
    /// Now and then a live node's disk fills up (no byte more fits) and is freed a while later; drawn from a stream of
    /// its own, so the fault changes no other draw of a seed.
    /// </summary>
    private void ScheduleNextDiskFull()
    {
        var interval = world.Plan.FaultInterval;
        world.Scheduler.After(diskFull.Between(interval / 2, interval * 2), () =>
        {
            if (!chaos)
            {
                return;
            }

            var up = nodes.Values.Where(n => n.IsUp && !n.DiskFilled).ToList();
            if (up.Count > 0)
            {
                var node = diskFull.Pick(up);
                var fill = node.FillDisk();
                world.Scheduler.After(diskFull.Between(interval / 4, interval * 2), () => node.FreeDisk(fill));
            }

            ScheduleNextDiskFull();
        });
    }

    private void Partition()
    {
        var ids = RunningNodes().Select(n => n.Id).ToList();
        if (ids.Count < 2)
        {
            return;
        }

        var network = world.Network;
        var plan = world.Plan;
        var shuffled = ids.OrderBy(_ => faults.NextULong()).ToList();
        var asymmetric = plan.AsymmetricPartitions && (!plan.Partitions || faults.Chance(0.5));
        if (asymmetric)
        {
            var node = shuffled[0];
            switch (faults.Next(3))
            {
                case 0: // can hear, cannot speak
                    foreach (var other in shuffled.Skip(1))
                    {
                        network.CutOneWay(node, other);
                    }

                    break;
                case 1: // can speak, cannot hear
                    foreach (var other in shuffled.Skip(1))
                    {
                        network.CutOneWay(other, node);
                    }

                    break;
                default: // a few random one-way links
                    for (var i = 0; i < ids.Count; i++)
                    {
                        var from = faults.Pick(ids);
                        var to = faults.Pick(ids);
                        if (from != to)
                        {
                            network.CutOneWay(from, to);
                        }
                    }

                    break;
            }
        }
        else
        {
            var leader = plan.LeaderPartitionBias > 0 && faults.Chance(plan.LeaderPartitionBias) ? FindLeader() : null;
            if (leader is not null && ids.Contains(leader.Id))
            {
                // The leader alone on one side: the others elect a new one while it may go on thinking it leads.
                shuffled.Remove(leader.Id);
                shuffled.Insert(0, leader.Id);
                network.Split(shuffled.Take(1), shuffled.Skip(1));
            }
            else
            {
                var cut = faults.Chance(0.5) ? 1 : (int)faults.Between(1, ids.Count - 1);
                network.Split(shuffled.Take(cut), shuffled.Skip(cut));
            }
        }

        world.Trace(0, asymmetric ? "partition-asym" : "partition", ids.Count, 0);
        world.Scheduler.After(faults.Between(30_000, 800_000), () =>
        {
            if (chaos)
            {
                network.HealAll();
                world.Trace(0, "heal-partition", 0, 0);
            }
        });
    }

    private void TransferLeadership()
    {
        var leader = FindLeader();
        var voters = leader?.Status()?.Config.Voters.Where(v => v != leader.Id).ToList();
        if (leader is null || voters is null || voters.Count == 0)
        {
            return;
        }

        var target = faults.Pick(voters);
        world.Trace(leader.Id, "transfer", (long)target, 0);
        leader.TransferLeadership(target);
    }

    private void Heal()
    {
        chaos = false;
        foreach (var node in nodes.Values)
        {
            node.FreeDisk();
        }

        workload.Stopped = true;
        if (authAdmin is not null)
        {
            authAdmin.Stopped = true;
        }

        if (leases is not null)
        {
            leases.Stopped = true;
        }

        world.Network.HealAll();
        world.Network.Conditions = NetworkConditions.Reliable;
        foreach (var node in nodes.Values)
        {
            node.AcknowledgementsWedged = false;
        }

        foreach (var node in nodes.Values.Where(n => !n.IsUp && !n.IsRetired))
        {
            node.Start();
        }

        world.Trace(0, "heal", 0, 0);
    }

    /// <summary>After healing, a leader must commit a fresh proposal on every member within the bound.</summary>
    private void CheckLiveness()
    {
        var start = world.Scheduler.Now;
        var deadline = start + options.LivenessBoundTicks * options.TickMicros;
        var probes = 0;
        SimNode? prober = null;
        ulong probeApplied = 0;
        long probeSentAt = 0;
        bool Done() => probeApplied > 0 && MembersUp().All(n => n.Applied >= probeApplied);

        while (world.Scheduler.Now < deadline && !Done())
        {
            var leader = FindLeader();
            if (leader is not null && (prober != leader || world.Scheduler.Now - probeSentAt > 300_000) && probeApplied == 0)
            {
                prober = leader;
                probeSentAt = world.Scheduler.Now;
                var probe = new SimCommand(ProbeKeyRequestBase - probes++, KvInput.Put("__liveness", $"p{probes}"))
                {
                    User = options.Auth ? Bulwark.Kv.Auth.AuthStore.RootUser : null,
                };
                var at = leader;
                leader.SubmitWrite(probe, reply =>
                {
                    if (reply.Kind == ClientReplyKind.Ok)
                    {
                        probeApplied = at.Applied;
                    }
                });
            }

            world.Scheduler.RunUntil(world.Scheduler.Now + options.TickMicros, () => Done() || world.Monitor.Violations.Count > 0);
            if (world.Monitor.Violations.Count > 0)
            {
                return;
            }
        }

        if (!Done())
        {
            var picture = string.Join(", ", nodes.Values.Where(n => !n.IsRetired).Select(n =>
                $"n{n.Id}:{(n.IsUp ? n.SoftState!.Value.Role.ToString() : "down")}@t{n.SoftState?.Term} applied={n.Applied}"));
            var progress = FindLeader()?.Status() is { } status
                ? "; leader progress " + string.Join(" ", status.Progress.Select(p => $"n{p.Id}:{p.State} match={p.Match} next={p.Next}")) + $" first={status.FirstIndex} last={status.LastIndex}"
                : "";
            world.Monitor.Fail($"liveness: no proposal committed on every member within {options.LivenessBoundTicks} ticks after faults stopped ({picture}; config {latestConfig}{progress})");
            return;
        }

        livenessTicks = (int)((world.Scheduler.Now - start) / options.TickMicros);
    }

    /// <summary>
    /// Nobody keeps a lease alive after the faults stop, so every lease ever granted must be revoked, on every member,
    /// within its TTL plus the new leader's extension (one election timeout) plus a liveness bound, by the slowest
    /// clock. A lease that outlives that would hold its keys (a lock, a leader's key) forever.
    /// </summary>
    private void CheckLeasesExpire()
    {
        const long MaxTtl = 2_000_000;
        var bound = world.Scheduler.Now + (long)((MaxTtl + 10 * options.TickMicros) * 1.3) + options.LivenessBoundTicks * options.TickMicros;
        bool AllGone() => MembersUp().All(n => n.LeaseIds().Count == 0);
        world.Scheduler.RunUntil(bound, () => AllGone() || world.Monitor.Violations.Count > 0);
        if (world.Monitor.Violations.Count > 0)
        {
            return;
        }

        foreach (var node in MembersUp())
        {
            if (node.LeaseIds() is { Count: > 0 } left)
            {
                world.Monitor.Fail($"lease liveness: node {node.Id} still holds lease(s) {string.Join(", ", left)} long after every client stopped keeping them alive");
            }
        }
    }

    private IEnumerable<SimNode> MembersUp() =>
        latestConfig.AllMembers.Select(id => nodes.TryGetValue(id, out var n) ? n : null).OfType<SimNode>().Where(n => n.IsUp);

    /// <summary>Lets outstanding client calls finish or time out, then lets replicas converge.</summary>
    private void Drain()
    {
        var end = world.Scheduler.Now + options.ClientTimeout + 100_000;
        world.Scheduler.RunUntil(end, () => workload.Active == 0 && (leases?.Active ?? 0) == 0);
        var settle = world.Scheduler.Now + 50 * options.TickMicros;
        bool Converged()
        {
            var members = MembersUp().ToList();
            return members.Count > 0 && members.All(n => n.Applied == members[0].Applied);
        }

        world.Scheduler.RunUntil(settle, Converged);
    }

    private void FinalChecks()
    {
        if (livenessTicks < 0)
        {
            return;
        }

        var members = MembersUp().ToList();
        var reference = members.MaxBy(n => n.Applied)!;
        foreach (var node in members)
        {
            if (node.Applied != reference.Applied)
            {
                world.Monitor.Fail($"convergence: after healing, node {node.Id} applied {node.Applied} but node {reference.Id} applied {reference.Applied}");
            }
            else if (node.Fingerprint() != reference.Fingerprint())
            {
                world.Monitor.Fail($"state machine safety: nodes {node.Id} and {reference.Id} applied up to {node.Applied} but their states differ");
            }

            foreach (var id in workload.History.AcknowledgedWrites)
            {
                if (!node.HasApplied(id))
                {
                    world.Monitor.Fail($"durability: acknowledged write {id} is missing from node {node.Id}'s final state");
                    break;
                }
            }
        }

        world.Monitor.CheckLogMatching(nodes.Values.Select(n => (n.Id, n.Log)).ToList());
        if (authAdmin is not null)
        {
            CheckAuthState(members, reference);
        }
    }

    /// <summary>
    /// Auth runs: every member ends with the same auth state, with auth on once the operator saw it enabled, and no
    /// member holds a key the user was never allowed to write (only refused calls ever targeted them).
    /// </summary>
    private void CheckAuthState(IReadOnlyList<SimNode> members, SimNode reference)
    {
        var authState = reference.AuthFingerprint();
        foreach (var node in members)
        {
            if (node.AuthFingerprint() != authState)
            {
                world.Monitor.Fail($"auth state: nodes {node.Id} and {reference.Id} applied up to {node.Applied} but their auth states differ");
            }

            if (authAdmin!.Enabled && !node.AuthEnabled)
            {
                world.Monitor.Fail($"auth state: auth enable was applied, but node {node.Id} has auth off");
            }

            if (node.KeysUnder(AuthAdmin.ForbiddenPrefix) is { Count: > 0 } written)
            {
                world.Monitor.Fail($"auth: node {node.Id} holds {string.Join(", ", written)}, which only refused calls ever wrote");
            }
        }
    }

    private CheckVerdict CheckHistory()
    {
        var result = LinearizabilityChecker.Check(KvModel.Instance, workload.History.Build(), new CheckBudget { MaxSteps = 2_000_000 });
        if (result.Verdict == CheckVerdict.Illegal)
        {
            world.Monitor.Fail($"linearizability: {result.Violation}");
        }

        return result.Verdict;
    }
}
