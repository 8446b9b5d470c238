using System.Globalization;
using System.Net;
using System.Text.Json;
using Bulwark.Api.Etcdserverpb;
using Bulwark.EndToEnd.Tests.Processes;

namespace Bulwark.EndToEnd.Tests.Observability;

/// <summary>
/// `bulwark serve` with default settings (no --log-format): every stdout line of every member of a real 3-process
/// cluster is one ECS JSON document naming its member, host and pid, and every node, peer, member, cluster or leader
/// id in it is the hex form etcd uses, in the labels as in the message.
/// </summary>
public sealed class ServeLogLinesTests
{
    [Fact]
    public async Task Serve_writes_json_lines_naming_member_host_and_pid_with_ids_in_hex()
    {
        await using var cluster = await ProcessCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        var members = await cluster.Cluster(leader).MemberListAsync(new MemberListRequest());
        var hexIds = members.Members.ToDictionary(m => m.Name, m => Hex(m.ID));
        var knownIds = hexIds.Values.Append(Hex(members.Header.ClusterId)).Append("0").ToHashSet(StringComparer.Ordinal);

        // Wait until each member has said it serves (event 1050) and connected to a peer (event 1101): then its
        // log holds host, transport and serve lines, each with ids.
        var deadline = DateTime.UtcNow + ProcessCluster.Patience;
        while (!Enumerable.Range(0, cluster.Size).All(i => HasEvents(cluster.StandardOutput(i), "1050", "1101")))
        {
            Assert.True(DateTime.UtcNow < deadline, "members never logged serving and a peer connection:\n" + cluster.Logs());
            await Task.Delay(200);
        }

        for (var i = 0; i < cluster.Size; i++)
        {
            var name = cluster.Names[i];
            var lines = cluster.StandardOutput(i);
            Assert.NotEmpty(lines);
            foreach (var line in lines)
            {
                using var json = Parse(line, name);
                var root = json.RootElement;
                Assert.Equal(name, root.GetProperty("service.node.name").GetString());
                Assert.Equal(Dns.GetHostName(), root.GetProperty("host.hostname").GetString());
                Assert.Equal(cluster.Pid(i), root.GetProperty("process.pid").GetInt32());
                Assert.True(root.TryGetProperty("@timestamp", out _), line);
                Assert.True(root.TryGetProperty("log.level", out _), line);
                if (!root.TryGetProperty("labels", out var labels))
                {
                    continue;
                }

                var message = root.GetProperty("message").GetString()!;
                foreach (var label in labels.EnumerateObject().Where(l => IsId(l.Name)))
                {
                    var value = label.Value.GetString()!;
                    Assert.True(knownIds.Contains(value), $"{name}: {label.Name}={value} is not a member or cluster id in hex ({string.Join(", ", knownIds)}):\n{line}");
                    Assert.Contains(value, message, StringComparison.Ordinal);
                }
            }

            using var serving = JsonDocument.Parse(lines.Single(l => HasEvents([l], "1050")));
            Assert.Equal(hexIds[name], serving.RootElement.GetProperty("labels").GetProperty("NodeId").GetString());
        }
    }

    private static bool HasEvents(IReadOnlyList<string> lines, params string[] codes) =>
        codes.All(code => lines.Any(l => l.Contains($"\"event.code\":\"{code}\"", StringComparison.Ordinal)));

    /// <summary>Labels that carry a node, member, peer, cluster or leader id.</summary>
    private static bool IsId(string label) => label.EndsWith("Id", StringComparison.Ordinal) || label.Contains("Leader", StringComparison.Ordinal);

    private static string Hex(ulong id) => id.ToString("x", CultureInfo.InvariantCulture);

    private static JsonDocument Parse(string line, string member)
    {
        try
        {
            return JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new Xunit.Sdk.XunitException($"{member} wrote a line that is not JSON ({e.Message}): {line}");
        }
    }
}
