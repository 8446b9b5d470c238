using Bulwark.Availability.Estimation;
using Bulwark.Availability.Journals;

namespace Bulwark.Availability.Tests.Journals;

/// <summary>
/// The merge of the members' journals into one cluster log: one outage per real outage of a member whatever the number
/// of observers, the minority's view dropped, flaps coalesced, an observer's judgements ending with its process,
/// rotated files read in order, and failovers timed from the journals.
/// </summary>
public sealed class JournalMergeTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly string[] Nodes = ["n1", "n2", "n3"];

    private static DateTimeOffset At(double seconds) => T0 + TimeSpan.FromSeconds(seconds);

    private static JournalRecord Down(double s, string observer, string node) => new(At(s), observer, "node_down", node);

    private static JournalRecord Up(double s, string observer, string node) => new(At(s), observer, "node_up", node);

    private static ClusterJournal Merge(params JournalRecord[] records) => JournalMerge.Merge(records, Nodes, At(0), At(100));

    [Fact]
    public void Judgements_of_one_crash_by_two_observers_are_one_outage_from_the_first_down_to_the_first_return()
    {
        var journal = Merge(
            Down(10.0, "n1", "n2"), Down(10.3, "n3", "n2"),
            Up(14.0, "n1", "n2"), Up(14.6, "n3", "n2"));

        var outage = Assert.Single(journal.Outages);
        Assert.Equal(("n2", At(10.0), At(14.0)), (outage.Node, outage.Start, outage.End));
        Assert.Equal(["n1", "n3"], outage.Observers);

        // The estimator reads the written log as one failure and one repair of 4 s; the naive concatenation of both
        // journals reads the same here only because the repeated records are ignored — the flap test shows where it does not.
        var observed = ObservedHistory.From(EventLog.Parse(journal.ToJsonLines()));
        Assert.Equal((1, 1, 0), (observed.Failures, observed.Repairs, observed.RepeatedRecords));
        Assert.Equal(4.0 / 3600, observed.DownHours, 9);
    }

    [Fact]
    public void A_returning_member_judged_silent_again_while_it_catches_up_is_one_outage_and_a_later_one_is_another()
    {
        var journal = Merge(
            Down(10, "n1", "n2"), Up(14, "n1", "n2"), Down(15.5, "n1", "n2"), Up(16, "n1", "n2"),
            Down(40, "n1", "n2"), Up(44, "n1", "n2"));

        Assert.Equal([(At(10), At(16)), (At(40), At(44))], journal.Outages.Select(o => (o.Start, o.End)));
        Assert.Equal(1, journal.Counts.Coalesced);

        // Concatenated without the merge, the flap counts as a third failure.
        var naive = ObservedHistory.From(EventLog.Parse(string.Join('\n',
            "{\"ts\":\"2026-12-07T12:00:00.000Z\",\"event\":\"observation_start\",\"nodes\":[\"n1\",\"n2\",\"n3\"]}",
            "{\"ts\":\"2026-12-07T12:00:10.000Z\",\"event\":\"node_down\",\"node\":\"n2\"}",
            "{\"ts\":\"2026-12-07T12:00:14.000Z\",\"event\":\"node_up\",\"node\":\"n2\"}",
            "{\"ts\":\"2026-12-07T12:00:15.500Z\",\"event\":\"node_down\",\"node\":\"n2\"}",
            "{\"ts\":\"2026-12-07T12:00:16.000Z\",\"event\":\"node_up\",\"node\":\"n2\"}",
            "{\"ts\":\"2026-12-07T12:00:40.000Z\",\"event\":\"node_down\",\"node\":\"n2\"}",
            "{\"ts\":\"2026-12-07T12:00:44.000Z\",\"event\":\"node_up\",\"node\":\"n2\"}",
            "{\"ts\":\"2026-12-07T12:01:40.000Z\",\"event\":\"observation_end\"}")));
        Assert.Equal(3, naive.Failures);
        Assert.Equal(2, ObservedHistory.From(journal.ToEventLog()).Failures);
    }

    [Fact]
    public void A_cut_off_leader_judging_its_peers_down_is_the_minority_and_only_its_own_outage_counts()
    {
        var journal = Merge(
            Down(10.5, "n1", "n2"), Down(10.5, "n1", "n3"),
            Down(11.0, "n2", "n1"), Down(11.1, "n3", "n1"),
            Up(15.1, "n1", "n2"), Up(15.1, "n1", "n3"),
            Up(15.2, "n2", "n1"), Up(15.3, "n3", "n1"));

        var outage = Assert.Single(journal.Outages);
        Assert.Equal(("n1", At(11.0), At(15.2)), (outage.Node, outage.Start, outage.End));
        Assert.Equal(2, journal.Counts.DroppedFromMinority);
        Assert.Equal(0, ObservedHistory.From(journal.ToEventLog()).QuorumLosses);
    }

    [Fact]
    public void A_cut_off_follower_and_the_leader_accuse_each_other_and_the_leader_is_believed()
    {
        // n1 leads (term 2); n3 is cut off: n1 judges it silent, n3 judges its leader silent. One observer each: the
        // leader breaks the tie. Then a leader cut off with only one accuser (n2, elected; n1, a follower, never expects
        // traffic from n3): n3 judged n1 and n2 down first, and the newly elected n2 is believed.
        var journal = Merge(
            new JournalRecord(At(1), "n1", "leader_changed", "n1", "n1", 2),
            Down(10.0, "n1", "n3"), Down(10.2, "n3", "n1"), Up(15, "n1", "n3"), Up(15.1, "n3", "n1"),
            new JournalRecord(At(30), "n3", "leader_changed", "n3", "n3", 3),
            new JournalRecord(At(40.9), "n1", "leader_suspected", "n3"),
            Down(41.6, "n3", "n1"), Down(42.1, "n3", "n2"),
            new JournalRecord(At(41.9), "n2", "leader_changed", "n2", "n2", 4),
            Down(42.9, "n2", "n3"), Up(47.8, "n2", "n3"), Up(48, "n3", "n1"), Up(48, "n3", "n2"));

        Assert.Equal([("n3", At(10), At(15)), ("n3", At(42.9), At(47.8))], journal.Outages.Select(o => (o.Node, o.Start, o.End)));
        Assert.Equal(3, journal.Counts.DroppedFromMinority);
        var failover = Assert.Single(journal.LeaderFailovers);
        Assert.Equal(("n3", "n2", At(40.9)), (failover.PreviousLeader, failover.NewLeader, failover.Start));
    }

    [Fact]
    public void A_resumed_leader_judging_its_peers_silent_right_after_its_pause_is_dropped_but_a_follower_only_the_leader_sees_is_kept()
    {
        var journal = Merge(
            // n1 (leader) paused at 9: both followers judge it down; when it resumes at 14 it finds them silent.
            Down(10, "n2", "n1"), Down(10.1, "n3", "n1"), Up(14.0, "n2", "n1"), Down(14.1, "n1", "n2"), Up(14.3, "n1", "n2"),
            // later n3 (a follower) is paused: only the leader, now n2, judges it down.
            Down(50, "n2", "n3"), Up(55, "n2", "n3"));

        Assert.Equal([("n1", At(10), At(14)), ("n3", At(50), At(55))], journal.Outages.Select(o => (o.Node, o.Start, o.End)));
    }

    [Fact]
    public void An_observer_that_dies_holding_a_member_down_withdraws_the_judgement_at_its_last_record()
    {
        // Only n3 (leader) judged n2 down (a paused follower); then n3 itself was killed (its last record at 11 s) and
        // restarted at 15 s. Nobody else judged n2 down, so n2's outage ends at 11 s, not at the end of the window.
        var journal = Merge(
            Down(10, "n3", "n2"),
            new JournalRecord(At(11), "n3", "leader_changed", "n3", "n3", 4),
            Down(12.5, "n1", "n3"), Down(12.6, "n2", "n3"),
            new JournalRecord(At(15), "n3", "node_started", "n3"),
            Up(16, "n1", "n3"));

        Assert.Equal([("n2", At(10), At(11), false), ("n3", At(12.5), At(16), false)], journal.Outages.Select(o => (o.Node, o.Start, o.End, o.OpenAtEnd)));
    }

    [Fact]
    public void A_member_down_while_another_restarts_keeps_its_outage_from_the_observer_that_stays_up()
    {
        // n2 killed at 10 (judged by n1 and n3); n3 killed at 12 and restarted at 15 (judged by n1); n2 back at 20.
        var journal = Merge(
            Down(10, "n1", "n2"), Down(10.2, "n3", "n2"),
            Down(13, "n1", "n3"),
            new JournalRecord(At(15), "n3", "node_started", "n3"),
            Up(16, "n1", "n3"),
            Up(20, "n1", "n2"));

        Assert.Equal([("n2", At(10), At(20)), ("n3", At(13), At(16))], journal.Outages.Select(o => (o.Node, o.Start, o.End)));
        var observed = ObservedHistory.From(journal.ToEventLog());
        Assert.Equal((2, 1), (observed.Failures, observed.QuorumLosses));
        Assert.Equal(3.0 / 3600, observed.QuorumDownHours, 9);
    }

    [Fact]
    public void Outages_are_clipped_to_the_window_and_one_still_open_at_its_end_has_no_return()
    {
        var journal = JournalMerge.Merge([Down(5, "n1", "n2"), Up(12, "n1", "n2"), Down(95, "n1", "n3")], Nodes, At(10), At(100));

        Assert.Equal([("n2", At(10), At(12), false), ("n3", At(95), At(100), true)], journal.Outages.Select(o => (o.Node, o.Start, o.End, o.OpenAtEnd)));
        var lines = journal.ToJsonLines();
        Assert.DoesNotContain("\"node_up\",\"node\":\"n3\"", lines, StringComparison.Ordinal);
        var observed = ObservedHistory.From(EventLog.Parse(lines));
        Assert.Equal((2, 1), (observed.Failures, observed.Repairs));
    }

    [Fact]
    public void A_failover_is_timed_from_the_first_sign_of_trouble_to_the_new_leader_and_marks_the_leader_outage()
    {
        var journal = Merge(
            new JournalRecord(At(1), "n1", "leader_changed", "n1", "n1", 2),
            new JournalRecord(At(1), "n2", "leader_changed", "n2", "n1", 2),
            new JournalRecord(At(10.1), "n2", "became_candidate", "n2", null, 3),
            new JournalRecord(At(10.4), "n2", "leader_changed", "n2", "n2", 3),
            new JournalRecord(At(10.45), "n3", "leader_changed", "n3", "n2", 3),
            Down(11.0, "n2", "n1"), Down(11.0, "n3", "n1"), Up(15, "n2", "n1"),
            // a follower's outage later changes no leader
            Down(30, "n2", "n3"), Up(34, "n2", "n3"));

        var failover = Assert.Single(journal.Failovers);
        Assert.Equal(("n1", "n2", 3L, At(10.1), At(10.4), true), (failover.PreviousLeader, failover.NewLeader, failover.Term, failover.Start, failover.Elected, failover.AfterLeaderOutage));
        Assert.Equal(0.3 / 3600, journal.MeanFailoverHours!.Value, 9);
        Assert.Equal([true, false], journal.Outages.Select(o => o.WasLeader));
    }

    [Fact]
    public void Rotated_journal_files_are_read_oldest_first_and_their_headers_do_not_add_failures()
    {
        var dir = Directory.CreateTempSubdirectory("bulwark-journal-").FullName;
        try
        {
            // events.jsonl.2 is the oldest, then .1, then the current file; each rotated file opens with a header that
            // repeats the peers down at that moment.
            File.WriteAllLines(Path.Combine(dir, "events.jsonl.2"),
            [
                "{\"ts\":\"2026-12-07T12:00:00.000Z\",\"event\":\"observation_start\",\"nodes\":[\"n1\",\"n2\",\"n3\"],\"observer\":\"n1\"}",
                "{\"ts\":\"2026-12-07T12:00:10.000Z\",\"event\":\"node_down\",\"node\":\"n2\",\"reason\":\"judged down by n1\"}",
            ]);
            File.WriteAllLines(Path.Combine(dir, "events.jsonl.1"),
            [
                "{\"ts\":\"2026-12-07T12:00:12.000Z\",\"event\":\"observation_start\",\"nodes\":[\"n1\",\"n2\",\"n3\"],\"observer\":\"n1\"}",
                "{\"ts\":\"2026-12-07T12:00:12.000Z\",\"event\":\"node_down\",\"node\":\"n2\",\"reason\":\"down when this journal file was opened\"}",
                "{\"ts\":\"2026-12-07T12:00:14.000Z\",\"event\":\"node_up\",\"node\":\"n2\"}",
            ]);
            File.WriteAllLines(Path.Combine(dir, "events.jsonl"),
            [
                "{\"ts\":\"2026-12-07T12:00:20.000Z\",\"event\":\"observation_start\",\"nodes\":[\"n1\",\"n2\",\"n3\"],\"observer\":\"n1\"}",
                "{\"ts\":\"2026-12-07T12:00:30.000Z\",\"event\":\"node_down\",\"node\":\"n3\"}",
                "{\"ts\":\"2026-12-07T12:00:33.000Z\",\"event\":\"node_up\",\"node\":\"n3\"}",
                "{\"ts\":\"2026-12-07T12:00:34.000Z\",\"event\":\"node_do", // torn by SIGKILL mid-write
            ]);

            Assert.Equal(["events.jsonl.2", "events.jsonl.1", "events.jsonl"], MemberJournalReader.FilesOldestFirst(dir).Select(Path.GetFileName));
            var (records, unreadable) = MemberJournalReader.ReadDirectory("n1", dir);
            Assert.Equal(1, unreadable);
            var journal = JournalMerge.Merge(records, Nodes, At(0), At(100), unreadableLines: unreadable);

            Assert.Equal([("n2", At(10), At(14)), ("n3", At(30), At(33))], journal.Outages.Select(o => (o.Node, o.Start, o.End)));
            Assert.Equal(1, journal.Counts.UnreadableLines);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void An_empty_window_is_refused()
    {
        var e = Assert.Throws<AvailabilityInputException>(() => JournalMerge.Merge([], Nodes, At(10), At(10)));
        Assert.Equal("window", e.Field);
    }
}
