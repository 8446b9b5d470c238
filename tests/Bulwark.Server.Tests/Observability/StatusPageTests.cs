using Bulwark.Server.Admin;
using Bulwark.Server.Hosting;
using Bulwark.Server.Observability;

namespace Bulwark.Server.Tests.Observability;

/// <summary>The status page's server-side rendering: the first paint carries the state, and operator input is escaped.</summary>
public sealed class StatusPageTests
{
    private const string Hostile = "<script>alert(\"x\")</script>&'";

    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private static StatusDocument Document()
    {
        var vitals = new MemberVitals("1.2.3", Now.AddHours(-3).AddMinutes(-4), 3 * 3600 + 4 * 60, 2, [DiskSpaceAlarm.Name],
            41, 17, 9, 120, 1.5, 8.5, 60);
        MemberView[] members =
        [
            new("1", "n1", true, true, "LEADER", 7, 40, 40, 0, "UP", 0, null, "this member", vitals),
            new("2", Hostile, false, true, "FOLLOWER", 7, 40, 39, 1, "UP", 0.4, 0.7, "", vitals with { Alarms = [], PutP50Ms = null, PutP99Ms = null }),
            new("3", "n3", false, false, "UNREACHABLE", 0, 0, 0, 0, "DOWN", 0, null, "does not answer Status on its client URLs"),
        ];
        return new StatusDocument("n1", "1", Now, "n1", 7, 2.5, members,
            [new LeaderChange(Now.AddMinutes(-10), 6, 3, "n3"), new LeaderChange(Now.AddMinutes(-1), 7, 1, "n1")],
            [new JournalEvent(Now, JournalEvents.PeerDown, Hostile, "silent <for> long")]);
    }

    [Fact]
    public void The_first_paint_has_members_leader_vitals_and_history_without_any_script_running()
    {
        var html = StatusPage.Render(Document());
        // Everything the script would fill in is in the markup already: strip the script and look.
        var markup = html[..html.IndexOf("<script>", StringComparison.Ordinal)];
        Assert.Contains("<b id=\"leader\">n1</b>", markup, StringComparison.Ordinal);
        Assert.Contains("<b id=\"term\">7</b>", markup, StringComparison.Ordinal);
        Assert.Contains("<b id=\"up\">2 / 3</b>", markup, StringComparison.Ordinal);
        Assert.Contains("<b id=\"alarms\">n1: NOSPACE</b>", markup, StringComparison.Ordinal);
        Assert.Contains("data-member=\"n1\" data-state=\"UP\"", markup, StringComparison.Ordinal);
        Assert.Contains("data-member=\"n3\" data-state=\"DOWN\"", markup, StringComparison.Ordinal);
        Assert.Contains("<td class=\"LEADER\">LEADER</td>", markup, StringComparison.Ordinal);
        // revision, compacted, keys, uptime, restarts, alarms, put p50, put p99, version
        Assert.Contains("<td class=\"num\">41</td><td class=\"num\">17</td><td class=\"num\">9</td><td class=\"num\">3h 4m</td><td class=\"num\">2</td>"
            + "<td class=\"alarm\">NOSPACE</td><td class=\"num\">1.5</td><td class=\"num\">8.5</td><td>1.2.3</td>", markup, StringComparison.Ordinal);
        Assert.Contains("<td class=\"num\">-</td><td class=\"num\">-</td><td>1.2.3</td>", markup, StringComparison.Ordinal); // no puts in the window
        // Leader history newest first, with the term.
        var newest = markup.IndexOf("<td>2026-12-06 11:59:00</td><td class=\"num\">7</td><td>n1</td>", StringComparison.Ordinal);
        var older = markup.IndexOf("<td>2026-12-06 11:50:00</td><td class=\"num\">6</td><td>n3</td>", StringComparison.Ordinal);
        Assert.True(newest > 0 && older > newest, markup);
    }

    [Fact]
    public void Member_names_and_event_text_are_escaped_everywhere()
    {
        var html = StatusPage.Render(Document());
        Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<for>", html, StringComparison.Ordinal);
        Assert.Contains("data-member=\"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;\"", html, StringComparison.Ordinal);
        Assert.Contains("<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</td>", html, StringComparison.Ordinal);
        Assert.Contains("silent &lt;for&gt; long", html, StringComparison.Ordinal);
        Assert.Equal(1, Count(html, "<script>"));
        Assert.Contains(StatusPage.Esc(Hostile), StatusPage.Starting(Hostile), StringComparison.Ordinal);
        Assert.DoesNotContain(Hostile, StatusPage.Starting(Hostile), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(59.9, "59s")]
    [InlineData(61, "1m 1s")]
    [InlineData(3 * 3600 + 4 * 60 + 5, "3h 4m")]
    [InlineData(2 * 86400 + 5 * 3600 + 1, "2d 5h")]
    public void Uptime_reads_as_its_two_largest_units(double seconds, string expected) => Assert.Equal(expected, StatusPage.Uptime(seconds));

    private static int Count(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
