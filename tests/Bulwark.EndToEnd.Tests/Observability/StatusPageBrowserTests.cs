using System.Text.RegularExpressions;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.Server.Tests.Observability;

namespace Bulwark.EndToEnd.Tests.Observability;

/// <summary>
/// The status page as a person sees it right after a failover: a real 3-process cluster loses its leader, and once
/// the survivors agree on a new one (by gRPC Status), each survivor's page, rendered by headless Chromium, names the
/// new leader, shows the killed member DOWN and unreachable, and lists the new leader on top of its leader history.
/// The design goal is that the page shows this within about a second of the election; a loaded CI machine cannot
/// promise timings, so the test re-renders until a generous deadline and asserts only on what the page says.
/// </summary>
public sealed partial class StatusPageBrowserTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Chromium's profile (and anything else the browser writes) for this test only; deleted afterwards.</summary>
    private readonly string browserDir = Path.Combine(Path.GetTempPath(), "bulwark-status-browser-" + Guid.NewGuid().ToString("N")[..12]);

    [Fact]
    public async Task After_a_leader_kill_every_survivors_page_names_the_new_leader_and_shows_the_old_one_down()
    {
        var chromium = ExternalProgram.Require("chromium", "chromium chromium-driver");
        await using var cluster = await ProcessCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        var killed = cluster.Names[leader];

        await cluster.KillAsync(leader);
        var newLeader = cluster.Names[await cluster.WaitForLeaderAsync(notLeader: leader)];

        foreach (var survivor in cluster.Running)
        {
            var url = cluster.MetricsUrls[survivor] + "/";
            var deadline = DateTime.UtcNow + Patience;
            var (dom, missing) = await RenderAsync(chromium, url, killed, newLeader);
            while (missing.Count > 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
                (dom, missing) = await RenderAsync(chromium, url, killed, newLeader);
            }

            Assert.True(missing.Count == 0,
                $"{cluster.Names[survivor]}'s page ({url}) after {killed} was killed and {newLeader} took over lacks: {string.Join("; ", missing)}\n{dom}");
        }
    }

    /// <summary>Renders the page in headless Chromium (its script runs) and lists what it does not show yet.</summary>
    private async Task<(string Dom, List<string> Missing)> RenderAsync(string chromium, string url, string killed, string newLeader)
    {
        string[] args =
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--user-data-dir=" + browserDir, "--virtual-time-budget=3000", "--dump-dom", url,
        ];
        var run = await ExternalProgram.RunAsync(chromium, args, TimeSpan.FromSeconds(90));
        Assert.True(run.Exit == 0, $"chromium exited with {run.Exit}: {run.Stderr}");
        var dom = run.Stdout;
        var missing = new List<string>();
        if (!dom.Contains($"<b id=\"leader\">{newLeader}</b>", StringComparison.Ordinal))
        {
            missing.Add($"the leader card naming {newLeader}");
        }

        var killedRow = Row(dom, killed);
        if (killedRow is null || !killedRow.Contains("data-state=\"DOWN\"", StringComparison.Ordinal) || !killedRow.Contains(">UNREACHABLE<", StringComparison.Ordinal))
        {
            missing.Add($"{killed}'s member row DOWN and UNREACHABLE (row: {killedRow ?? "none"})");
        }

        var newLeaderRow = Row(dom, newLeader);
        if (newLeaderRow is null || !newLeaderRow.Contains(">LEADER<", StringComparison.Ordinal) || !newLeaderRow.Contains("data-state=\"UP\"", StringComparison.Ordinal))
        {
            missing.Add($"{newLeader}'s member row UP and LEADER (row: {newLeaderRow ?? "none"})");
        }

        var latest = LatestLeader().Match(dom);
        if (!latest.Success || latest.Groups["name"].Value != newLeader)
        {
            missing.Add($"{newLeader} on top of the leader history (top: {(latest.Success ? latest.Groups["name"].Value : "none")})");
        }

        return (dom, missing);
    }

    /// <summary>The member table row of <paramref name="member"/>, or null.</summary>
    private static string? Row(string dom, string member)
    {
        var at = dom.IndexOf($"data-member=\"{member}\"", StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var end = dom.IndexOf("</tr>", at, StringComparison.Ordinal);
        return end < 0 ? null : dom[at..end];
    }

    /// <summary>The leader column of the first (newest) row of the leader history table.</summary>
    [GeneratedRegex("<table id=\"leaders\">(?:(?!</table>).)*?<tbody><tr><td[^>]*>[^<]*</td><td[^>]*>[^<]*</td><td[^>]*>(?<name>[^<]*)</td>", RegexOptions.Singleline)]
    private static partial Regex LatestLeader();

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(browserDir))
            {
                Directory.Delete(browserDir, recursive: true);
            }
        }
        catch (IOException)
        {
            // a temp dir left behind is harmless
        }
    }
}
