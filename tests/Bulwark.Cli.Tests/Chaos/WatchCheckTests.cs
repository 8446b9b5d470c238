using Bulwark.Chaos.Watches;

namespace Bulwark.Cli.Tests.Chaos;

/// <summary>
/// The chaos run's watch check on small hand-made logs: a clean set passes, and each kind of watch failure (a missed
/// event, a duplicate, an out-of-order event, two watchers disagreeing, an acknowledged write no watcher got) is
/// reported, so a broken watch cannot pass.
/// </summary>
public sealed class WatchCheckTests
{
    private static readonly WatchEvent A = new(10, "chaos/k0", false, "c0-1");
    private static readonly WatchEvent B = new(11, "chaos/k1", false, "c1-1");
    private static readonly WatchEvent C1 = new(12, "chaos/k0", false, "c0-2");
    private static readonly WatchEvent C2 = new(12, "chaos/k1", false, "c0-3"); // a two-key Txn: two events, one revision
    private static readonly WatchEvent D = new(13, "chaos/k0", true, null);

    private static readonly AcknowledgedWrite[] Acked =
    [
        new("chaos/k0", "c0-1", 10), new("chaos/k1", "c1-1", 11), new("chaos/k0", "c0-2", 12), new("chaos/k1", "c0-3", 12),
    ];

    private static WatcherLog Watcher(int id, params IReadOnlyList<WatchEvent>[] streams) =>
        new(id, streams, [], streams.SelectMany(s => s).Select(e => e.Revision).DefaultIfEmpty(9).Max());

    private static WatchReport Check(params WatcherLog[] watchers) => WatchCheck.Check(watchers, Acked, 10, 13);

    [Fact]
    public void Watchers_that_got_everything_in_order_pass_even_across_a_resume()
    {
        var report = Check(
            Watcher(0, [A, B, C1, C2, D]),
            Watcher(1, [A, B], [C1, C2, D]),
            Watcher(2, [A], [B, C1, C2], [D]));
        Assert.False(report.Violated, string.Join("; ", report.Examples));
        Assert.Empty(report.Behind);
        Assert.Equal(5, report.DistinctEvents);
        Assert.Equal(3, report.Reconnects);
        Assert.Equal(4, report.AcknowledgedWritesChecked);
    }

    [Fact]
    public void A_watcher_that_missed_an_event_is_a_violation()
    {
        var report = Check(Watcher(0, [A, B, C1, C2, D]), Watcher(1, [A, C1, C2, D]));
        Assert.True(report.Violated);
        Assert.Equal(1, report.Problems["missed"]);
        Assert.Contains(report.Examples, e => e.Contains("watcher 1 never got chaos/k1 at revision 11", StringComparison.Ordinal));
    }

    [Fact]
    public void A_duplicate_after_a_resume_is_a_violation()
    {
        var report = Check(Watcher(0, [A, B, C1], [C1, C2, D]));
        Assert.Equal(1, report.Problems["duplicate"]);
    }

    [Fact]
    public void An_event_older_than_one_before_it_is_a_violation()
    {
        var report = Check(Watcher(0, [A, C1, B, C2, D]));
        Assert.Equal(1, report.Problems["out of order"]);
    }

    [Fact]
    public void Two_watchers_that_disagree_on_a_revision_are_a_violation()
    {
        var report = Check(Watcher(0, [A, B, C1, C2, D]), Watcher(1, [A, B, C1 with { Value = "other" }, C2, D]));
        Assert.Equal(1, report.Problems["disagreement"]);
    }

    [Fact]
    public void An_acknowledged_write_that_no_watcher_got_is_a_violation()
    {
        var acked = Acked.Append(new AcknowledgedWrite("chaos/k2", "c2-1", 13)).ToArray();
        var report = WatchCheck.Check([Watcher(0, [A, B, C1, C2, D])], acked, 10, 13);
        Assert.Equal(1, report.Problems["acknowledged write not watched"]);
    }

    [Fact]
    public void A_compacted_range_is_not_a_gap_and_a_watcher_short_of_the_end_is_reported_as_behind()
    {
        var compacted = new WatcherLog(1, [[C1, C2, D]], [(10, 11)], 13);
        var behind = new WatcherLog(2, [[A, B]], [], 11);
        var report = Check(Watcher(0, [A, B, C1, C2, D]), compacted, behind);
        Assert.False(report.Violated, string.Join("; ", report.Examples));
        Assert.Equal(2, report.CompactedSkips);
        Assert.Contains("watcher 2 reached revision 11, not 13", Assert.Single(report.Behind));
    }
}
