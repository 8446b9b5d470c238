using Bulwark.Api.Etcdserverpb;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.Server.Hosting;
using Bulwark.TestSupport;
using Grpc.Core;
using Grpc.Net.Client;

namespace Bulwark.EndToEnd.Tests.Compatibility;

/// <summary>
/// Every refused membership change answers with etcd's gRPC code and message and changes nothing (the member list,
/// read linearizably, is the same before and after). The same calls go to the real etcd 3.4 side by side, and to a
/// Bulwark follower (which forwards them to its leader).
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class MembershipBadInputTests(ReferenceEtcd etcd) : IClassFixture<ReferenceEtcd>
{
    private const ulong UnknownId = 0x1234;

    [Fact]
    public async Task EachRefusedChangeGivesEtcdsCodeAndMessageAndChangesNothing()
    {
        await using var cluster = await ProcessCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        var follower = Enumerable.Range(0, 3).First(i => i != leader);
        using var reference = GrpcChannel.ForAddress("http://" + etcd.Endpoint);
        var freePeerUrl = $"http://127.0.0.1:{LoopbackPorts.Take(1)[0]}";
        foreach (var (name, client, isBulwark) in new[]
        {
            ("bulwark leader", cluster.Cluster(leader), true),
            ("bulwark follower", cluster.Cluster(follower), true),
            ("etcd 3.4", new Cluster.ClusterClient(reference), false),
        })
        {
            var before = await ListWhenPublishedAsync(client);
            var voter = before[0];

            await Refused(name, client, () => client.MemberRemoveAsync(new MemberRemoveRequest { ID = UnknownId }).ResponseAsync,
                StatusCode.NotFound, "etcdserver: member not found");
            await Refused(name, client, () => client.MemberPromoteAsync(new MemberPromoteRequest { ID = UnknownId }).ResponseAsync,
                StatusCode.NotFound, "etcdserver: member not found");
            await Refused(name, client, () => client.MemberUpdateAsync(new MemberUpdateRequest { ID = UnknownId, PeerURLs = { freePeerUrl } }).ResponseAsync,
                StatusCode.NotFound, "etcdserver: member not found");
            await Refused(name, client, () => client.MemberPromoteAsync(new MemberPromoteRequest { ID = voter.ID }).ResponseAsync,
                StatusCode.FailedPrecondition, "etcdserver: can only promote a learner member");
            await Refused(name, client, () => client.MemberAddAsync(new MemberAddRequest { PeerURLs = { voter.PeerURLs[0] }, IsLearner = true }).ResponseAsync,
                StatusCode.FailedPrecondition, "etcdserver: Peer URLs already exists");
            foreach (var bad in new[] { "foo", $"{freePeerUrl}/path", "http://127.0.0.1" })
            {
                await Refused(name, client, () => client.MemberAddAsync(new MemberAddRequest { PeerURLs = { bad }, IsLearner = true }).ResponseAsync,
                    StatusCode.InvalidArgument, "etcdserver: given member URLs are invalid");
                if (isBulwark)
                {
                    // etcd 3.4's MemberUpdate does not check the URLs at all (it stores "foo" and the member becomes
                    // unreachable); Bulwark refuses them as MemberAdd does.
                    await Refused(name, client, () => client.MemberUpdateAsync(new MemberUpdateRequest { ID = voter.ID, PeerURLs = { bad } }).ResponseAsync,
                        StatusCode.InvalidArgument, "etcdserver: given member URLs are invalid");
                }
            }

            await Refused(name, client, () => client.MemberAddAsync(new MemberAddRequest { IsLearner = true }).ResponseAsync,
                StatusCode.InvalidArgument, "etcdserver: given member URLs are invalid");
            Assert.Equal(Describe(before), Describe(await ListAsync(client)));

            // A learner that never started is not in sync: promoting it is refused; a second learner is one too many.
            var added = await client.MemberAddAsync(new MemberAddRequest { PeerURLs = { freePeerUrl }, IsLearner = true });
            Assert.True(added.Member.IsLearner, name);
            Assert.Equal("", added.Member.Name);
            Assert.Equal([freePeerUrl], added.Member.PeerURLs);
            Assert.Contains(added.Members, m => m.ID == added.Member.ID && m.IsLearner);
            var withLearner = await ListAsync(client);
            await Refused(name, client, () => client.MemberPromoteAsync(new MemberPromoteRequest { ID = added.Member.ID }).ResponseAsync,
                StatusCode.FailedPrecondition, "etcdserver: can only promote a learner member which is in sync with leader");
            await Refused(name, client, () => client.MemberAddAsync(new MemberAddRequest { PeerURLs = { freePeerUrl.Replace("127.0.0.1", "localhost", StringComparison.Ordinal) }, IsLearner = true }).ResponseAsync,
                StatusCode.FailedPrecondition, "etcdserver: too many learner members in cluster");
            Assert.Equal(Describe(withLearner), Describe(await ListAsync(client)));

            var removed = await client.MemberRemoveAsync(new MemberRemoveRequest { ID = added.Member.ID });
            Assert.Equal(Describe(before), Describe(removed.Members));
            Assert.Equal(Describe(before), Describe(await ListAsync(client)));

            // A removed id is gone for good: removing it again is "member not found", as in etcd.
            await Refused(name, client, () => client.MemberRemoveAsync(new MemberRemoveRequest { ID = added.Member.ID }).ResponseAsync,
                StatusCode.NotFound, "etcdserver: member not found");
        }
    }

    [Fact]
    public async Task RemovingTheLastMemberIsRefusedAsInEtcd()
    {
        await using var cluster = await ProcessCluster.StartAsync(1);
        using var reference = GrpcChannel.ForAddress("http://" + etcd.Endpoint);
        foreach (var (name, client) in new[] { ("bulwark", cluster.Cluster(0)), ("etcd 3.4", new Cluster.ClusterClient(reference)) })
        {
            var before = await ListWhenPublishedAsync(client);
            var only = Assert.Single(before);
            await Refused(name, client, () => client.MemberRemoveAsync(new MemberRemoveRequest { ID = only.ID }).ResponseAsync,
                StatusCode.Unknown, "etcdserver: re-configuration failed due to not enough started members"); // etcd 3.4's code for it
            Assert.Equal(Describe(before), Describe(await ListAsync(client)));
        }

        Assert.True(cluster.IsRunning(0));
    }

    /// <summary>etcd's strict reconfiguration check: with a voter down, adding a member or removing a live voter
    /// would leave no healthy quorum: "etcdserver: unhealthy cluster" (Unavailable), nothing changed.</summary>
    [Fact]
    public async Task ChangesThatWouldLeaveNoHealthyQuorumAreRefused()
    {
        await using var cluster = await ProcessCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        var down = Enumerable.Range(0, 3).First(i => i != leader);
        var live = Enumerable.Range(0, 3).First(i => i != leader && i != down);
        var client = cluster.Cluster(leader);
        var before = await ListWhenPublishedAsync(client);
        var liveId = (await cluster.TryStatusAsync(live))!.Header.MemberId;
        await cluster.KillAsync(down);

        // The leader notices the closed connection at once; until then the add may still pass the check, so ask until
        // it is refused (never accepted: a refused change changes nothing, an accepted one would show in the list).
        var freePeerUrl = $"http://127.0.0.1:{LoopbackPorts.Take(1)[0]}";
        Status last = default;
        await Eventually.TrueAsync(
            async () =>
            {
                var refusal = await Assert.ThrowsAsync<RpcException>(async () =>
                    await client.MemberRemoveAsync(new MemberRemoveRequest { ID = liveId }, deadline: DateTime.UtcNow.AddSeconds(30)));
                last = refusal.Status;
                return refusal.StatusCode == StatusCode.Unavailable && refusal.Status.Detail == "etcdserver: unhealthy cluster";
            },
            "removing a live voter with another down to be refused as unhealthy",
            ProcessCluster.Patience,
            diagnostics: () => $"last answer: {last}");

        await Refused("bulwark", client, () => client.MemberAddAsync(new MemberAddRequest { PeerURLs = { freePeerUrl }, IsLearner = true }).ResponseAsync,
            StatusCode.Unavailable, "etcdserver: unhealthy cluster");
        await Refused("bulwark", client, () => client.MemberRemoveAsync(new MemberRemoveRequest { ID = liveId }).ResponseAsync,
            StatusCode.Unavailable, "etcdserver: unhealthy cluster");
        Assert.Equal(Describe(before), Describe(await ListAsync(client)));

        // Once the member is back, the same add goes through.
        cluster.Start(down);
        var added = await Eventually.ValueAsync(
            async () => await client.MemberAddAsync(new MemberAddRequest { PeerURLs = { freePeerUrl }, IsLearner = true }),
            "the add to go through once the member is back",
            ProcessCluster.Patience,
            transient: e => e is RpcException { Status.Detail: "etcdserver: unhealthy cluster" });
        Assert.Equal(before.Count + 1, added.Members.Count);
    }

    private static async Task Refused<T>(string target, Cluster.ClusterClient client, Func<Task<T>> call, StatusCode code, string message)
    {
        var before = Describe(await ListAsync(client));
        RpcException? error = null;
        try
        {
            await call();
        }
        catch (RpcException e)
        {
            error = e;
        }

        Assert.True(error is not null, $"{target}: expected {code} \"{message}\", but the call succeeded");
        Assert.True(error.StatusCode == code && error.Status.Detail == message,
            $"{target}: expected {code} \"{message}\", got {error.StatusCode} \"{error.Status.Detail}\"");
        Assert.Equal(before, Describe(await ListAsync(client)));
    }

    /// <summary>Members publish their client URLs through the log once they have a leader: wait for that, so the lists
    /// compared before and after a refused call only differ if the call changed something.</summary>
    private static async Task<IReadOnlyList<Member>> ListWhenPublishedAsync(Cluster.ClusterClient client)
    {
        IReadOnlyList<Member> members = [];
        await Eventually.TrueAsync(
            async () => (members = await ListAsync(client)).All(m => m.ClientURLs.Count > 0),
            "members to publish their client URLs",
            ProcessCluster.Patience,
            diagnostics: () => Describe(members));
        return members;
    }

    private static async Task<IReadOnlyList<Member>> ListAsync(Cluster.ClusterClient client) =>
        (await client.MemberListAsync(new MemberListRequest { Linearizable = true }, deadline: DateTime.UtcNow.AddSeconds(30))).Members;

    private static string Describe(IEnumerable<Member> members) =>
        string.Join(Environment.NewLine, members.OrderBy(m => m.ID).Select(m => m.ToString()));
}
