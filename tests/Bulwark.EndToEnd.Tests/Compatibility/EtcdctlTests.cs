using System.Globalization;
using System.Text.Json;
using Bulwark.Server.Hosting;
using Bulwark.EndToEnd.Tests.Processes;
using static Bulwark.EndToEnd.Tests.Compatibility.Etcdctl;

namespace Bulwark.EndToEnd.Tests.Compatibility;

/// <summary>
/// The stock etcd v3 command-line client (etcdctl 3.4 from Debian's etcd-client) against a real 3-process Bulwark
/// cluster: its exact output proves keys, values, revisions, member ids and names come back as etcd gives them.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class EtcdctlTests(SharedCluster shared)
{
    private ProcessCluster Cluster => shared.Cluster;

    /// <summary>
    /// Endpoints as host:port, the form etcd's own docs use. (With http:// endpoints etcdctl 3.4 sends the whole URL
    /// as the HTTP/2 :authority on its per-endpoint Maintenance calls; see <see cref="EndpointStatusAcceptsHttpSchemeEndpoints"/>.)
    /// </summary>
    private string All => string.Join(",", Cluster.ClientUrls.Select(HostPort));

    private static string HostPort(string url) => url["http://".Length..];

    [Fact]
    public async Task PutThenGetPrintsKeyAndValue()
    {
        Assert.Equal("OK\n", await RunOkAsync(All, "put", "ctl/basic", "hello world"));
        Assert.Equal("ctl/basic\nhello world\n", await RunOkAsync(All, "get", "ctl/basic"));
        Assert.Equal("hello world\n", await RunOkAsync(All, "get", "ctl/basic", "--print-value-only"));
        Assert.Equal("", await RunOkAsync(All, "get", "ctl/absent"));
    }

    [Fact]
    public async Task GetWithPrefixListsKeysInOrderThroughEveryEndpoint()
    {
        foreach (var k in new[] { "b", "a", "c" })
        {
            await RunOkAsync(All, "put", $"ctl/prefix/{k}", $"value-{k}");
        }

        await RunOkAsync(All, "put", "ctl/prefiy", "outside");
        foreach (var url in Cluster.ClientUrls)
        {
            Assert.Equal(
                "ctl/prefix/a\nvalue-a\nctl/prefix/b\nvalue-b\nctl/prefix/c\nvalue-c\n",
                await RunOkAsync(url, "get", "--prefix", "ctl/prefix/"));
        }

        Assert.Equal("ctl/prefix/a\n\nctl/prefix/b\n\n", await RunOkAsync(All, "get", "--prefix", "ctl/prefix/", "--keys-only", "--limit=2"));
        Assert.Equal(
            "ctl/prefix/c\nvalue-c\nctl/prefix/b\nvalue-b\nctl/prefix/a\nvalue-a\n",
            await RunOkAsync(All, "get", "--prefix", "ctl/prefix/", "--order=DESCEND", "--sort-by=KEY"));
    }

    [Fact]
    public async Task GetAtRevisionReadsHistoryAndJsonShowsRevisions()
    {
        var first = JsonDocument.Parse(await RunOkAsync(All, "put", "ctl/rev", "one", "-w", "json")).RootElement;
        var firstRevision = first.GetProperty("header").GetProperty("revision").GetInt64();
        var second = JsonDocument.Parse(await RunOkAsync(All, "put", "ctl/rev", "two", "-w", "json")).RootElement;
        var secondRevision = second.GetProperty("header").GetProperty("revision").GetInt64();
        Assert.True(secondRevision > firstRevision);

        Assert.Equal("ctl/rev\none\n", await RunOkAsync(All, "get", "ctl/rev", "--rev", firstRevision.ToString(CultureInfo.InvariantCulture)));
        Assert.Equal("ctl/rev\ntwo\n", await RunOkAsync(All, "get", "ctl/rev"));

        var got = JsonDocument.Parse(await RunOkAsync(All, "get", "ctl/rev", "-w", "json")).RootElement;
        var header = got.GetProperty("header");
        Assert.True(header.GetProperty("revision").GetInt64() >= secondRevision);
        Assert.True(header.GetProperty("raft_term").GetUInt64() >= 1);
        Assert.Contains(header.GetProperty("member_id").GetUInt64(), Cluster.Names.Select(ClusterMember.IdFromName));
        Assert.Equal(1, got.GetProperty("count").GetInt64());
        var kv = Assert.Single(got.GetProperty("kvs").EnumerateArray());
        Assert.Equal(Base64("ctl/rev"), kv.GetProperty("key").GetString());
        Assert.Equal(Base64("two"), kv.GetProperty("value").GetString());
        Assert.Equal(firstRevision, kv.GetProperty("create_revision").GetInt64());
        Assert.Equal(secondRevision, kv.GetProperty("mod_revision").GetInt64());
        Assert.Equal(2, kv.GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task DelPrintsHowManyKeysWereDeleted()
    {
        await RunOkAsync(All, "put", "ctl/del/one", "1");
        foreach (var k in new[] { "x", "y", "z" })
        {
            await RunOkAsync(All, "put", $"ctl/delp/{k}", k);
        }

        Assert.Equal("1\n", await RunOkAsync(All, "del", "ctl/del/one"));
        Assert.Equal("0\n", await RunOkAsync(All, "del", "ctl/del/one"));
        Assert.Equal("3\n", await RunOkAsync(All, "del", "--prefix", "ctl/delp/"));
        Assert.Equal("", await RunOkAsync(All, "get", "--prefix", "ctl/delp/"));

        await RunOkAsync(All, "put", "ctl/del/prev", "old");
        Assert.Equal("1\nctl/del/prev\nold\n", await RunOkAsync(All, "del", "ctl/del/prev", "--prev-kv"));
    }

    [Fact]
    public async Task TxnFromStdinTakesTheBranchItsComparesChoose()
    {
        await RunOkAsync(All, "put", "ctl/txn/flag", "on");
        var success = await RunAsync(All, Script("value(\"ctl/txn/flag\") = \"on\"", "", "put ctl/txn/result \"then-branch\"", "get ctl/txn/flag", "", "put ctl/txn/result \"else-branch\"", ""), "txn");
        Assert.True(success.ExitCode == 0, success.ToString());
        Assert.Equal("SUCCESS\n\nOK\n\nctl/txn/flag\non\n", success.Stdout);
        Assert.Equal("ctl/txn/result\nthen-branch\n", await RunOkAsync(All, "get", "ctl/txn/result"));

        var failure = await RunAsync(All, Script("value(\"ctl/txn/flag\") = \"off\"", "version(\"ctl/txn/flag\") = \"1\"", "", "put ctl/txn/result \"then-branch-2\"", "", "put ctl/txn/result \"else-branch\"", "del ctl/txn/flag", ""), "txn", "--interactive=false");
        Assert.True(failure.ExitCode == 0, failure.ToString());
        Assert.Equal("FAILURE\n\nOK\n\n1\n", failure.Stdout);
        Assert.Equal("ctl/txn/result\nelse-branch\n", await RunOkAsync(All, "get", "ctl/txn/result"));
        Assert.Equal("", await RunOkAsync(All, "get", "ctl/txn/flag"));

        var modCompare = await RunAsync(All, Script("mod(\"ctl/txn/result\") > \"0\"", "create(\"ctl/txn/missing\") = \"0\"", "", "get ctl/txn/result", "", ""), "txn");
        Assert.True(modCompare.ExitCode == 0, modCompare.ToString());
        Assert.Equal("SUCCESS\n\nctl/txn/result\nelse-branch\n", modCompare.Stdout);
    }

    /// <summary>etcdctl's non-interactive txn input: each line ends with a newline; an empty line ends a section.</summary>
    private static string Script(params string[] lines) => string.Concat(lines.Select(l => l + "\n"));

    [Fact]
    public async Task EndpointStatusShowsEveryMemberAndOneLeader()
    {
        var json = JsonDocument.Parse(await RunOkAsync(All, "endpoint", "status", "-w", "json")).RootElement;
        var rows = json.EnumerateArray().ToList();
        Assert.Equal(Cluster.Size, rows.Count);
        var leaders = new HashSet<ulong>();
        for (var i = 0; i < Cluster.Size; i++)
        {
            var row = rows.Single(r => r.GetProperty("Endpoint").GetString() == HostPort(Cluster.ClientUrls[i]));
            var status = row.GetProperty("Status");
            Assert.Equal(ClusterMember.IdFromName(Cluster.Names[i]), status.GetProperty("header").GetProperty("member_id").GetUInt64());
            Assert.Equal("3.5.0", status.GetProperty("version").GetString());
            Assert.True(status.GetProperty("raftTerm").GetUInt64() >= 1);
            Assert.True(status.GetProperty("raftIndex").GetUInt64() >= 1);
            leaders.Add(status.GetProperty("leader").GetUInt64());
        }

        var leader = Assert.Single(leaders);
        Assert.Contains(leader, Cluster.Names.Select(ClusterMember.IdFromName));

        // The table form: "endpoint, id, version, db size, is leader, is learner, term, index, applied index, errors".
        var lines = Lines(await RunOkAsync(All, "endpoint", "status"));
        Assert.Equal(Cluster.Size, lines.Length);
        for (var i = 0; i < Cluster.Size; i++)
        {
            var id = ClusterMember.IdFromName(Cluster.Names[i]);
            var line = Assert.Single(lines, l => l.StartsWith($"{HostPort(Cluster.ClientUrls[i])}, {id:x}, 3.5.0, ", StringComparison.Ordinal));
            var fields = line.Split(", ");
            Assert.Equal(id == leader ? "true" : "false", fields[4]);
            Assert.Equal("false", fields[5]);
        }
    }

    [Fact]
    public async Task MemberListShowsIdsNamesAndUrls()
    {
        var lines = Lines(await RunOkAsync(Cluster.ClientUrls[0], "member", "list"));
        var expected = Enumerable.Range(0, Cluster.Size)
            .Select(i => $"{ClusterMember.IdFromName(Cluster.Names[i]):x}, started, {Cluster.Names[i]}, {Cluster.PeerUrls[i]}, {Cluster.ClientUrls[i]}, false")
            .Order(StringComparer.Ordinal);
        Assert.Equal(expected, lines.Order(StringComparer.Ordinal));

        var json = JsonDocument.Parse(await RunOkAsync(Cluster.ClientUrls[1], "member", "list", "-w", "json")).RootElement;
        var names = json.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("name").GetString()).Order(StringComparer.Ordinal);
        Assert.Equal(Cluster.Names, names);
    }

    /// <summary>
    /// etcdctl 3.4's per-endpoint Maintenance client dials "passthrough:///http://host:port", so the request's HTTP/2
    /// :authority is "http://host:port". etcd (Go's HTTP/2 server) accepts that; Kestrel rejects it as an invalid host
    /// and resets the stream (RST_STREAM PROTOCOL_ERROR), so `etcdctl --endpoints http://... endpoint status` fails.
    /// </summary>
    [Fact]
    public async Task EndpointStatusAcceptsHttpSchemeEndpoints()
    {
        var result = await RunAsync(Cluster.Endpoints, null, "endpoint", "status");
        Assert.True(result.ExitCode == 0, $"etcdctl --endpoints {Cluster.Endpoints} endpoint status: {result}");
        Assert.Equal(Cluster.Size, Lines(result.Stdout).Length);
    }

    /// <summary>
    /// `endpoint health` with http:// endpoints: one per-endpoint client per member, each sending the URL as the
    /// :authority (docs/http2-authority.md); every member must answer its health read.
    /// </summary>
    [Fact]
    public async Task EndpointHealthAcceptsHttpSchemeEndpoints()
    {
        var result = await RunAsync(Cluster.Endpoints, null, "endpoint", "health");
        Assert.True(result.ExitCode == 0, $"etcdctl --endpoints {Cluster.Endpoints} endpoint health: {result}");
        var lines = Lines(result.Stdout + "\n" + result.Stderr).Where(l => l.Contains("is healthy", StringComparison.Ordinal)).ToArray();
        Assert.Equal(Cluster.Size, lines.Length);
        Assert.All(Cluster.ClientUrls, url => Assert.Contains(lines, l => l.StartsWith(url + " is healthy", StringComparison.Ordinal)));
    }

    /// <summary>
    /// `etcdctl defrag` (what the usual defrag cron jobs run) defragments each member it names, and `defrag --cluster`
    /// every member `member list` gives (their client URLs) through one endpoint, with etcd's output: the snapshot,
    /// log compaction and heap compaction of Maintenance.Defragment run on each member and it answers OK. The cluster
    /// keeps serving: a key written before is read back after.
    /// </summary>
    [Fact]
    public async Task DefragOfEachMemberAndOfTheClusterPrintsEtcdsLines()
    {
        Assert.Equal("OK\n", await RunOkAsync(All, "put", "ctl/defrag", "before"));
        var lines = Lines(await RunOkAsync(All, "defrag"));
        Assert.Equal(
            Cluster.ClientUrls.Select(u => $"Finished defragmenting etcd member[{HostPort(u)}]").Order(StringComparer.Ordinal),
            lines.Order(StringComparer.Ordinal));

        var cluster = Lines(await RunOkAsync(HostPort(Cluster.ClientUrls[0]), "defrag", "--cluster"));
        Assert.Equal(
            Cluster.ClientUrls.Select(u => $"Finished defragmenting etcd member[{u}]").Order(StringComparer.Ordinal),
            cluster.Order(StringComparer.Ordinal));
        Assert.Equal("before\n", await RunOkAsync(All, "get", "ctl/defrag", "--print-value-only"));
    }

    /// <summary>
    /// `etcdctl check datascale` writes 10,000 1 KiB keys through one endpoint (then deletes them) and reads that
    /// endpoint's /metrics over HTTP/1.1 for process_resident_memory_bytes. It failed ("could not find:
    /// process_resident_memory_bytes"): the client port spoke only h2c and answered the scrape with 400, and there was
    /// no process metric. Compaction and defrag stay off so the shared cluster's history is left alone.
    /// </summary>
    [Fact]
    public async Task CheckDatascalePassesAgainstOneEndpoint()
    {
        var output = await RunOkAsync(HostPort(Cluster.ClientUrls[0]), "check", "datascale", "--load=s", "--auto-compact=false", "--auto-defrag=false");
        Assert.Contains("PASS: Approximate system memory used", output, StringComparison.Ordinal);
    }
}
