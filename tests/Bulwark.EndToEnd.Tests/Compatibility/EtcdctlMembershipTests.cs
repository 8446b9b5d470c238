using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.TestSupport;
using static Bulwark.EndToEnd.Tests.Compatibility.Etcdctl;

namespace Bulwark.EndToEnd.Tests.Compatibility;

/// <summary>
/// etcdctl's `member` commands against a real 3-process cluster that grows by a fourth member and loses an original
/// one, with etcd's output: list (simple, table, json), add --learner (and the ETCD_* lines it prints, used as is to
/// start the new member with --initial-cluster-state existing), update, promote (refused until the learner caught up),
/// remove (the removed member stops with its own exit code and etcd's log line).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed partial class EtcdctlMembershipTests
{
    [Fact]
    public async Task MemberAddStartPromoteUpdateRemoveWithEtcdctl()
    {
        await using var cluster = await ProcessCluster.StartAsync(3, spare: 1);
        var endpoints = string.Join(",", cluster.ClientUrls.Take(3).Select(u => u["http://".Length..]));
        var peer4 = cluster.PeerUrls[3];

        // member list: one line per member, "id, started, name, peer, client, false", and the table and JSON shapes.
        var list = Lines(await RunOkAsync(endpoints, "member", "list"));
        Assert.Equal(3, list.Length);
        for (var i = 0; i < 3; i++)
        {
            Assert.Contains(list, line => line.EndsWith($", started, n{i + 1}, {cluster.PeerUrls[i]}, {cluster.ClientUrls[i]}, false", StringComparison.Ordinal));
        }

        var table = Lines(await RunOkAsync(endpoints, "member", "list", "-w", "table"));
        Assert.Matches(@"^\|\s+ID\s+\|\s+STATUS\s+\|\s+NAME\s+\|\s+PEER ADDRS\s+\|\s+CLIENT ADDRS\s+\|\s+IS LEARNER\s+\|$", table[1]);
        Assert.Equal(3 + 4, table.Length); // border, header, border, 3 rows, border

        using (var json = JsonDocument.Parse(await RunOkAsync(endpoints, "member", "list", "-w", "json")))
        {
            var root = json.RootElement;
            Assert.NotEqual(0UL, root.GetProperty("header").GetProperty("cluster_id").GetUInt64());
            var members = root.GetProperty("members").EnumerateArray().ToList();
            Assert.Equal(3, members.Count);
            Assert.All(members, m =>
            {
                Assert.NotEqual(0UL, m.GetProperty("ID").GetUInt64());
                Assert.StartsWith("n", m.GetProperty("name").GetString(), StringComparison.Ordinal);
                Assert.Single(m.GetProperty("peerURLs").EnumerateArray());
                Assert.Single(m.GetProperty("clientURLs").EnumerateArray());
                Assert.False(m.TryGetProperty("isLearner", out _)); // false is left out, as etcd's JSON does
            });
        }

        // member add --learner: etcd's report and the environment for the new member.
        var added = await RunOkAsync(endpoints, "member", "add", "n4", "--learner", $"--peer-urls={peer4}");
        var addedMatch = AddedLine().Match(added);
        Assert.True(addedMatch.Success, added);
        var id4 = addedMatch.Groups["id"].Value.Trim();
        var clusterId = addedMatch.Groups["cluster"].Value.Trim();
        Assert.Equal($"Member {id4} added to cluster {clusterId}", OneSpaced(addedMatch.Value));
        Assert.Contains("ETCD_NAME=\"n4\"", added, StringComparison.Ordinal);
        Assert.Contains($"ETCD_INITIAL_ADVERTISE_PEER_URLS=\"{peer4}\"", added, StringComparison.Ordinal);
        Assert.Contains("ETCD_INITIAL_CLUSTER_STATE=\"existing\"", added, StringComparison.Ordinal);
        var initialCluster = InitialClusterLine().Match(added).Groups["value"].Value;
        Assert.Equal(
            Enumerable.Range(0, 4).Select(cluster.InitialClusterEntry).Order(StringComparer.Ordinal),
            initialCluster.Split(',').Order(StringComparer.Ordinal));
        Assert.Contains($"{id4}, unstarted, , {peer4}, , true", await RunOkAsync(endpoints, "member", "list"), StringComparison.Ordinal);

        // Not started yet, so not in sync: promote is refused with etcd's error, and nothing changes.
        var early = await RunAsync(endpoints, null, "member", "promote", id4);
        Assert.NotEqual(0, early.ExitCode);
        Assert.Contains("etcdserver: can only promote a learner member which is in sync with leader", early.Stderr, StringComparison.Ordinal);
        Assert.Contains($"{id4}, unstarted, , {peer4}, , true", await RunOkAsync(endpoints, "member", "list"), StringComparison.Ordinal);

        // member update: a new peer URL, and back.
        var elsewhere = $"http://127.0.0.1:{cluster.ClientPorts[3]}";
        Assert.Equal($"Member {id4} updated in cluster {clusterId}", OneSpaced(await RunOkAsync(endpoints, "member", "update", id4, $"--peer-urls={elsewhere}")));
        Assert.Contains($"{id4}, unstarted, , {elsewhere}, , true", await RunOkAsync(endpoints, "member", "list"), StringComparison.Ordinal);
        await RunOkAsync(endpoints, "member", "update", id4, $"--peer-urls={peer4}");

        // Start it as `member add` said; it joins, catches up and publishes its name and client URL.
        cluster.StartJoining(3, initialCluster);
        await WaitForLineAsync(endpoints, $"{id4}, started, n4, {peer4}, {cluster.ClientUrls[3]}, true");

        // `endpoint status` on the learner says so (IS LEARNER, the 6th column of etcdctl's simple output).
        var learnerStatus = (await RunOkAsync(cluster.ClientUrls[3]["http://".Length..], "endpoint", "status")).Split(", ");
        Assert.Equal("true", learnerStatus[5]);

        // Promote once in sync (a learner that just joined may still be catching up: etcd's error until then).
        var promoted = await Eventually.ValueAsync(
            async () =>
            {
                var promote = await RunAsync(endpoints, null, "member", "promote", id4);
                if (promote.ExitCode != 0)
                {
                    Assert.Contains("in sync with leader", promote.Stderr, StringComparison.Ordinal);
                    return null;
                }

                return promote;
            },
            "the learner to catch up and be promoted",
            ProcessCluster.Patience,
            diagnostics: cluster.Logs);
        Assert.Equal($"Member {id4} promoted in cluster {clusterId}", OneSpaced(promoted.Stdout));

        Assert.Contains($"{id4}, started, n4, {peer4}, {cluster.ClientUrls[3]}, false", await RunOkAsync(endpoints, "member", "list"), StringComparison.Ordinal);

        // Remove an original member (asked on another member): it stops with exit code 4 and etcd's log line.
        var id1 = (await cluster.TryStatusAsync(0))!.Header.MemberId.ToString("x", CultureInfo.InvariantCulture);
        var others = string.Join(",", cluster.ClientUrls.Skip(1).Select(u => u["http://".Length..]));
        var removed = await RunOkAsync(others, "member", "remove", id1);
        Assert.Equal($"Member {id1} removed from cluster {clusterId}", OneSpaced(removed));
        Assert.Equal(4, await cluster.WaitForExitAsync(0));
        var remaining = Lines(await RunOkAsync(others, "member", "list"));
        Assert.Equal(3, remaining.Length);
        Assert.DoesNotContain(remaining, line => line.StartsWith(id1 + ",", StringComparison.Ordinal));
        Assert.All(remaining, line => Assert.EndsWith(", false", line, StringComparison.Ordinal));
        Assert.Contains(cluster.Logs().Split('\n'), line => line.Contains("[1 out]", StringComparison.Ordinal) &&
            line.Contains("the member has been permanently removed from the cluster", StringComparison.Ordinal));

        // A joined member restarts as itself (its identity is in its data dir): same id, still in the list, caught up.
        await cluster.KillAsync(3);
        cluster.Start(3);
        await WaitForLineAsync(others, $"{id4}, started, n4, {peer4}, {cluster.ClientUrls[3]}, false");
        Assert.Equal(3, Lines(await RunOkAsync(others, "member", "list")).Length);
        await cluster.WaitForLeaderAsync();

        // The three members left serve writes.
        await RunOkAsync(others, "put", "member/after", "ok");
        Assert.Equal(["member/after", "ok"], Lines(await RunOkAsync(string.Join(",", cluster.ClientUrls[3]["http://".Length..]), "get", "member/after")));
    }

    /// <summary>etcdctl pads ids to 16 characters with spaces (%16x): one space between words, and trimmed.</summary>
    private static string OneSpaced(string text) => Regex.Replace(text.Trim(), " +", " ");

    private static async Task WaitForLineAsync(string endpoints, string expected)
    {
        var output = "";
        await Eventually.TrueAsync(
            async () => (output = await RunOkAsync(endpoints, "member", "list")).Contains(expected, StringComparison.Ordinal),
            $"member list to show '{expected}'",
            ProcessCluster.Patience,
            diagnostics: () => output);
    }

    // etcdctl prints ids with %16x: padded with spaces to 16 characters.
    [GeneratedRegex(@"^Member (?<id>[ 0-9a-f]{16}) added to cluster (?<cluster>[ 0-9a-f]{16})$", RegexOptions.Multiline)]
    private static partial Regex AddedLine();

    [GeneratedRegex("^ETCD_INITIAL_CLUSTER=\"(?<value>[^\"]*)\"$", RegexOptions.Multiline)]
    private static partial Regex InitialClusterLine();
}
