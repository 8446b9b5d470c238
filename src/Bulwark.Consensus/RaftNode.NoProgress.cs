using System.Buffers.Binary;
using Bulwark.Consensus.Quorum;

namespace Bulwark.Consensus;

/// <summary>What a no-progress report or campaign was about (the host journals it).</summary>
/// <param name="Leader">The leader reported.</param>
/// <param name="Term">Its term.</param>
/// <param name="Commit">The commit index it has not moved past.</param>
/// <param name="Reports">Voters (this one included) reporting it when this was recorded.</param>
public readonly record struct NoProgressNotice(ulong Leader, ulong Term, ulong Commit, int Reports);

/// <summary>
/// "Alive but not committing" (docs/consensus.md, "Gray failures" part 3): a leader whose messages keep arriving, so
/// neither the election timer nor the host's silence detector fires, but which does not move the commit index while
/// work is pending (its acknowledgement or proposal path is wedged, it appends but never commits).
/// </summary>
/// <remarks>
/// <para>A voting follower watches its leader. <b>Work is pending</b> when it holds entries past its commit index or
/// has forwarded a proposal since the commit index last moved. The leader is <b>stalled</b> for this follower once,
/// for <see cref="RaftConfig.NoProgressTicks"/> ticks in a row, work was pending, the commit index stood still and
/// the leader had been heard within an election timeout, and the follower has followed it for at least
/// <see cref="NoProgressMinTenureTicks"/> (a new leader is never reported). A leader with nothing to commit is never
/// stalled: without pending work the count starts over.</para>
/// <para>A stalled follower sends <see cref="MessageType.NoProgressReport"/> (term, leader, commit) to the other
/// voters, at most once per <see cref="NoProgressReportIntervalTicks"/>. Each voter keeps the newest report per
/// reporter for <see cref="NoProgressReportLifetimeTicks"/>; a report about another term or leader is not counted, and
/// progress of the receiver's commit index drops the reports about a lower one (hysteresis). A report about a lower
/// commit index received a whole stall window after the receiver's commit index last moved counts: followers of one
/// stuck leader may be stuck at different commit indexes.</para>
/// <para>A voter holding reports from a quorum of voters (its own counting when it is stalled itself) no longer
/// protects the leader's check-quorum lease against vote requests. A stalled voter holding a quorum gives the leader
/// up for <see cref="NoProgressDeposeTicks"/>: the existing short, rank-staggered campaign (as after a confirmed
/// connection loss) starts, and meanwhile the leader's messages are still handled (its entries acknowledged) but do
/// not make it this node's leader again; it keeps repeating its report meanwhile, and progress ends the deposition.
/// Safety never depends on any of this: the campaign is an ordinary pre-vote
/// and vote.</para>
/// </remarks>
public sealed partial class RaftNode
{
    /// <summary>Newest report per reporting voter.</summary>
    private readonly Dictionary<ulong, (ulong Term, ulong Leader, ulong Commit, long ReceivedAt)> noProgressReports = [];

    /// <summary>This node's ticks, for report ages.</summary>
    private long noProgressClock;

    /// <summary>The commit index as of this node's last tick, and <see cref="noProgressClock"/> when it got there.</summary>
    private ulong commitSeen;
    private long commitMovedAt;

    private ulong watchedTerm;
    private ulong watchedLeader;

    /// <summary>Ticks this node has followed <see cref="watchedLeader"/> in <see cref="watchedTerm"/>.</summary>
    private int followingTicks;

    /// <summary>The commit index when the current stall began.</summary>
    private ulong stallCommit;

    /// <summary>Consecutive ticks of the current stall (work pending, commit unmoved, leader heard).</summary>
    private int stallTicks;

    /// <summary>A proposal was forwarded to the leader while the commit index stood at <see cref="stallCommit"/>.</summary>
    private bool forwardedDuringStall;

    private int ticksSinceOwnReport = int.MaxValue / 2;

    /// <summary>The leader (and its term) this node gave up for lack of progress, while that lasts.</summary>
    private ulong deposedLeader;
    private ulong deposedTerm;
    private ulong deposedCommit;
    private int deposeTicksLeft;

    /// <summary>No-progress reports this node sent (each counts once, whatever the number of recipients).</summary>
    public long NoProgressReportsSent { get; private set; }

    /// <summary>Times a quorum of no-progress reports made this node give its leader up and campaign.</summary>
    public long NoProgressCampaigns { get; private set; }

    /// <summary>What the last report sent or campaign started was about.</summary>
    public NoProgressNotice? LastNoProgress { get; private set; }

    /// <summary>A leader is never reported in the first three election timeouts of its following by this node.</summary>
    private int NoProgressMinTenureTicks => 3 * config.ElectionTicks;

    /// <summary>A stalled follower repeats its report (reports get lost) at most once per election timeout.</summary>
    private int NoProgressReportIntervalTicks => config.ElectionTicks;

    /// <summary>A report not repeated within two election timeouts expires.</summary>
    private int NoProgressReportLifetimeTicks => 2 * config.ElectionTicks;

    /// <summary>How long a deposed leader's messages do not make it this node's leader again.</summary>
    private int NoProgressDeposeTicks => 2 * config.ElectionTicks;

    private bool NoProgressEnabled => config.NoProgressTicks > 0;

    private bool WorkPending => log.LastIndex > log.Committed || forwardedDuringStall;

    private bool OwnStallReported =>
        stallTicks >= config.NoProgressTicks && followingTicks >= NoProgressMinTenureTicks;

    /// <summary>One tick of the watch (before the role's own tick, so a campaign it starts can begin this tick).</summary>
    private void TickNoProgress()
    {
        if (!NoProgressEnabled)
        {
            return;
        }

        noProgressClock++;
        if (log.Committed != commitSeen)
        {
            commitSeen = log.Committed;
            commitMovedAt = noProgressClock;
        }

        ticksSinceOwnReport = Math.Min(ticksSinceOwnReport + 1, int.MaxValue / 2);
        if (deposeTicksLeft > 0 && (term != deposedTerm || log.Committed > deposedCommit || --deposeTicksLeft == 0))
        {
            // A new term, progress after all (hysteresis), or the campaign had its time.
            EndDeposition();
        }

        if (deposeTicksLeft > 0)
        {
            // Keep telling the others while the campaign is on: a voter that lost the first report would otherwise keep
            // protecting the stuck leader's lease against this node's pre-vote for good.
            if (ticksSinceOwnReport >= NoProgressReportIntervalTicks)
            {
                SendNoProgressReports(deposedLeader, deposedCommit);
            }

            return;
        }

        if (role != Role.Follower || lead == 0 || !IsPromotable)
        {
            ResetStall();
            return;
        }

        if (term != watchedTerm || lead != watchedLeader)
        {
            watchedTerm = term;
            watchedLeader = lead;
            followingTicks = 0;
            ticksSinceOwnReport = int.MaxValue / 2;
            ResetStall();
        }

        followingTicks++;
        if (SyncStallWithCommit())
        {
            return;
        }

        if (WorkPending && electionElapsed < config.ElectionTicks)
        {
            stallTicks++;
        }
        else
        {
            // Nothing to commit (an idle leader is never reported) or the leader itself went quiet (the election
            // timer's and the silence detector's case): the count starts over.
            stallTicks = 0;
        }

        if (!OwnStallReported)
        {
            return;
        }

        if (ticksSinceOwnReport >= NoProgressReportIntervalTicks)
        {
            SendNoProgressReports(lead, stallCommit);
        }

        MaybeDeposeForNoProgress();
    }

    /// <summary>
    /// The commit index moved since the stall began: progress, so the stall and every report about an older commit
    /// index are dropped. True when that happened.
    /// </summary>
    private bool SyncStallWithCommit()
    {
        if (log.Committed == stallCommit)
        {
            return false;
        }

        stallCommit = log.Committed;
        stallTicks = 0;
        forwardedDuringStall = false;
        foreach (var (from, report) in noProgressReports.ToArray())
        {
            if (report.Commit < log.Committed)
            {
                noProgressReports.Remove(from);
            }
        }

        return true;
    }

    private void ResetStall()
    {
        stallTicks = 0;
        forwardedDuringStall = false;
        stallCommit = log.Committed;
    }

    /// <summary>A follower forwarded a client proposal: work is pending until the commit index moves.</summary>
    private void NoteForwardedProposal()
    {
        if (NoProgressEnabled)
        {
            SyncStallWithCommit();
            forwardedDuringStall = true;
        }
    }

    private void SendNoProgressReports(ulong leader, ulong commit)
    {
        ticksSinceOwnReport = 0;
        var leaderBytes = new byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(leaderBytes, leader);
        foreach (var voter in log.Config.Voters)
        {
            if (voter != Id && voter != leader)
            {
                Send(new Message
                {
                    Type = MessageType.NoProgressReport, From = Id, To = voter, Term = term, Index = commit,
                    Context = leaderBytes,
                });
            }
        }

        NoProgressReportsSent++;
        LastNoProgress = new NoProgressNotice(leader, term, commit, Math.Max(1, NoProgressReportCount()));
    }

    /// <summary>A voter's report (the term rules already dropped any of another term).</summary>
    private void HandleNoProgressReport(Message m)
    {
        if (!NoProgressEnabled || role == Role.Leader || !IsPromotable || !log.Config.Voters.Contains(m.From) ||
            m.Context.Length != sizeof(ulong))
        {
            return;
        }

        var reported = BinaryPrimitives.ReadUInt64LittleEndian(m.Context.Span);
        if (reported == 0 || reported == m.From || reported == Id)
        {
            return;
        }

        noProgressReports[m.From] = (m.Term, reported, m.Index, noProgressClock);
        if (role == Role.Follower && lead == reported)
        {
            MaybeDeposeForNoProgress();
        }
    }

    /// <summary>
    /// Voters reporting this node's leader stalled: itself if it is, and the others whose fresh report names this term
    /// and this leader, and either a commit index at or above this node's own or one below it received a whole stall
    /// window after this node's commit index last moved (<see cref="CountsDespiteLowerCommit"/>).
    /// </summary>
    private int NoProgressReportCount()
    {
        if (lead == 0)
        {
            return 0;
        }

        var count = OwnStallReported ? 1 : 0;
        foreach (var (from, report) in noProgressReports)
        {
            if (from != Id && from != lead && report.Term == term && report.Leader == lead &&
                (report.Commit >= log.Committed || CountsDespiteLowerCommit(report.ReceivedAt)) &&
                noProgressClock - report.ReceivedAt <= NoProgressReportLifetimeTicks && log.Config.Voters.Contains(from))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// A report about a commit index below this node's own counts only if it was received at least
    /// <see cref="RaftConfig.NoProgressTicks"/> after this node's commit index last moved. Followers of one stuck leader
    /// can be stuck at different commit indexes for good: the leader tells each the commit index only up to what it
    /// last heard that follower hold (heartbeats carry min(match, commit)), and a lost acknowledgement or commit update
    /// just before the wedge leaves one a step behind (simulator seeds 70018/70019). Dropping every lower report kept the
    /// follower further ahead from ever holding a quorum, so it kept the leader's lease against the other's campaign.
    /// A report sent while stalled after our commit index moved is no stale news of a stall that has since ended (a
    /// follower that learns of progress stops reporting): received that late, it means the reporter saw no progress
    /// over a whole stall window in which this node saw none either. Reports received earlier were about before our
    /// progress (the hysteresis) and are dropped when the commit index moves.
    /// </summary>
    private bool CountsDespiteLowerCommit(long receivedAt)
    {
        // Between ticks the commit index may have moved without commitMovedAt knowing yet: that is a move now.
        var movedAt = log.Committed == commitSeen ? commitMovedAt : noProgressClock;
        return receivedAt - movedAt >= config.NoProgressTicks;
    }

    private bool NoProgressQuorum => NoProgressReportCount() >= MajorityConfig.QuorumSize(log.Config.Voters.Count);

    /// <summary>
    /// True when a quorum of voters reports this node's leader stalled: its lease then no longer protects it against
    /// vote requests (see <see cref="StepTerm"/>).
    /// </summary>
    private bool LeaseWaivedForNoProgress => NoProgressEnabled && lead != 0 && role == Role.Follower && NoProgressQuorum;

    /// <summary>A stalled follower holding a quorum of reports gives the leader up and campaigns (short, ranked timer).</summary>
    private void MaybeDeposeForNoProgress()
    {
        if (deposeTicksLeft > 0 || !OwnStallReported || !NoProgressQuorum)
        {
            return;
        }

        NoProgressCampaigns++;
        LastNoProgress = new NoProgressNotice(lead, term, stallCommit, NoProgressReportCount());
        deposedLeader = lead;
        deposedTerm = term;
        deposedCommit = log.Committed;
        deposeTicksLeft = NoProgressDeposeTicks;
        var leader = lead;
        ResetStall();
        noProgressReports.Clear();
        GiveUpLeader(leader);
    }

    private void EndDeposition()
    {
        deposedLeader = 0;
        deposedTerm = 0;
        deposedCommit = 0;
        deposeTicksLeft = 0;
    }

    /// <summary>
    /// A message of the leader this node gave up for lack of progress, in that leader's term, while the deposition
    /// lasts: its entries and heartbeats are still handled and acknowledged (it is the legitimate leader of the term,
    /// and its log is the one to keep), but it does not become this node's leader again, which would restore its lease
    /// and cancel the campaign. True when handled here.
    /// </summary>
    private bool StepFromDeposedLeader(Message m)
    {
        if (deposeTicksLeft == 0 || m.From != deposedLeader || m.Term != deposedTerm || m.Term != term ||
            role is not (Role.Follower or Role.PreCandidate))
        {
            return false;
        }

        switch (m.Type)
        {
            case MessageType.Append:
                HandleAppend(m);
                return true;
            case MessageType.Heartbeat:
                HandleHeartbeat(m);
                return true;
            case MessageType.Snapshot:
                HandleSnapshot(m);
                return true;
            default:
                return false;
        }
    }
}
