using System.CommandLine;
using Bulwark.Cli;
using Bulwark.EndToEnd.Tests.Processes;

namespace Bulwark.EndToEnd.Tests.Cli;

/// <summary>
/// `bulwark availability estimate` on the journals real members wrote (issue 11 point 7: a member that never judged a
/// peer down has no node_down/node_up record, and the command used to crash on its journal).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class EstimateRealJournalTests(SharedCluster shared)
{
    [Fact]
    public async Task Every_members_journal_gives_an_estimate()
    {
        var cluster = shared.Cluster;
        await cluster.WaitForLeaderAsync();
        for (var i = 0; i < cluster.Size; i++)
        {
            var journal = Path.Combine(cluster.DataDir(i), "journal", "events.jsonl");
            using var output = new StringWriter { NewLine = "\n" };
            using var error = new StringWriter { NewLine = "\n" };
            var code = await Program.RunAsync(["availability", "estimate", "--log", journal, "--json"], new InvocationConfiguration { Output = output, Error = error });

            // The journal holds the header and the election at least, at different times, so it covers some time.
            Assert.True(code == 0, $"{cluster.Names[i]}: exit {code}: {error}{Environment.NewLine}{await File.ReadAllTextAsync(journal)}");
            Assert.Contains("\"windowHours\"", output.ToString(), StringComparison.Ordinal);
        }
    }
}
