using System.Globalization;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.V3Electionpb;
using Bulwark.Api.V3Lockpb;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.TestSupport;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Bulwark.EndToEnd.Tests.Compatibility;

/// <summary>
/// The v3lockpb.Lock and v3electionpb.Election services called directly over gRPC, against a follower of a real
/// 3-process Bulwark cluster and, side by side, a real etcd 3.4: one scenario runs on both, and what each step answered
/// (keys with the lease ids masked, values, who waits, error codes and messages) must be the same.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class LockElectionGrpcTests(SharedCluster shared, ReferenceEtcd etcd, ITestOutputHelper output) : IClassFixture<ReferenceEtcd>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private async Task<string> FollowerAsync()
    {
        var leader = await shared.Cluster.WaitForLeaderAsync();
        return shared.Cluster.ClientUrls[(leader + 1) % shared.Cluster.Size];
    }

    private sealed class Transcript(string prefix)
    {
        private readonly Dictionary<string, string> leases = [];

        public List<string> Lines { get; } = [];

        public void Lease(string label, long id) => leases[id.ToString("x", CultureInfo.InvariantCulture)] = label;

        /// <summary>Records a step with its key bytes rewritten: the test's prefix and each lease's hex id masked.</summary>
        public void Add(string step) => Lines.Add(Mask(step));

        public string Mask(string text)
        {
            text = text.Replace(prefix, "<p>", StringComparison.Ordinal);
            foreach (var (hex, label) in leases)
            {
                text = text.Replace("/" + hex, "/<" + label + ">", StringComparison.Ordinal);
            }

            return text;
        }
    }

    private static string Error(RpcException e) => $"error {e.StatusCode}: {e.Status.Detail}";

    private static async Task<string> ErrorOf(Func<Task> call)
    {
        try
        {
            await call();
            return "no error";
        }
        catch (RpcException e)
        {
            return Error(e);
        }
    }

    private static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);

    private static async Task<List<string>> ScenarioAsync(string url, string prefix)
    {
        using var channel = GrpcChannel.ForAddress(url);
        var kv = new KV.KVClient(channel);
        var leases = new Lease.LeaseClient(channel);
        var locks = new Bulwark.Api.V3Lockpb.Lock.LockClient(channel);
        var elections = new Election.ElectionClient(channel);
        var log = new Transcript(prefix);
        using var cancel = new CancellationTokenSource(Patience * 2);
        var options = new CallOptions(cancellationToken: cancel.Token);

        async Task<long> GrantAsync(string label)
        {
            var id = (await leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 }, options)).ID;
            log.Lease(label, id);
            return id;
        }

        async Task<bool> ExistsAsync(ByteString key) => (await kv.RangeAsync(new RangeRequest { Key = key }, options)).Count == 1;

        var a = await GrantAsync("A");
        var b = await GrantAsync("B");
        var c = await GrantAsync("C");
        var mutex = Bytes(prefix + "mutex");

        // Lock: the first holder gets it at once, a second waits until the first unlocks.
        var first = await locks.LockAsync(new LockRequest { Name = mutex, Lease = a }, options);
        log.Add($"lock A: {first.Key.ToStringUtf8()} (header revision set: {first.Header.Revision > 0})");
        var again = await locks.LockAsync(new LockRequest { Name = mutex, Lease = a }, options);
        log.Add($"lock A again: {again.Key.ToStringUtf8()}");
        var second = locks.LockAsync(new LockRequest { Name = mutex, Lease = b }, options);
        var bKey = Bytes(prefix + "mutex/" + b.ToString("x", CultureInfo.InvariantCulture));
        await Eventually.TrueAsync(() => ExistsAsync(bKey), "B's waiter key", Patience);
        log.Add($"B waits while A holds: {!second.ResponseAsync.IsCompleted}");
        var unlocked = await locks.UnlockAsync(new UnlockRequest { Key = first.Key }, options);
        log.Add($"unlock A: header revision set: {unlocked.Header.Revision > 0}");
        var secondHeld = await second.ResponseAsync;
        log.Add($"lock B after A unlocked: {secondHeld.Key.ToStringUtf8()}");

        // A waiter whose caller gives up leaves the queue (its key is deleted).
        using (var giveUp = new CancellationTokenSource())
        {
            var waiting = locks.LockAsync(new LockRequest { Name = mutex, Lease = c }, cancellationToken: giveUp.Token);
            var cKey = Bytes(prefix + "mutex/" + c.ToString("x", CultureInfo.InvariantCulture));
            await Eventually.TrueAsync(() => ExistsAsync(cKey), "C's waiter key", Patience);
            await giveUp.CancelAsync();
            log.Add("C cancelled: " + await ErrorOf(() => waiting.ResponseAsync));
            await Eventually.TrueAsync(async () => !await ExistsAsync(cKey), "C's waiter key to be deleted after its caller cancelled", Patience);
            log.Add("C's key deleted");
        }

        await locks.UnlockAsync(new UnlockRequest { Key = secondHeld.Key }, options);

        // Lock without a lease: the server grants one (etcd's session TTL) and attaches the key to it.
        var unleased = await locks.LockAsync(new LockRequest { Name = Bytes(prefix + "unleased") }, options);
        var unleasedKv = (await kv.RangeAsync(new RangeRequest { Key = unleased.Key }, options)).Kvs.Single();
        var sessionTtl = await leases.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = unleasedKv.Lease }, options);
        log.Add($"lock without a lease: key under the name: {unleased.Key.ToStringUtf8().StartsWith(prefix + "unleased/", StringComparison.Ordinal)}, " +
            $"lease attached: {unleasedKv.Lease != 0}, granted TTL {sessionTtl.GrantedTTL}");
        await locks.UnlockAsync(new UnlockRequest { Key = unleased.Key }, options);

        // Refusals.
        log.Add("lock with an unknown lease: " + await ErrorOf(() => locks.LockAsync(new LockRequest { Name = mutex, Lease = 0x7ab1 }, options).ResponseAsync));
        log.Add("lock with an empty name and an unknown lease: " + await ErrorOf(() => locks.LockAsync(new LockRequest { Lease = 0x7ab1 }, options).ResponseAsync));
        log.Add("unlock without a key: " + await ErrorOf(() => locks.UnlockAsync(new UnlockRequest(), options).ResponseAsync));
        log.Add("unlock a key nobody holds: " + await ErrorOf(() => locks.UnlockAsync(new UnlockRequest { Key = Bytes(prefix + "mutex/none") }, options).ResponseAsync));

        // Election.
        var election = Bytes(prefix + "election");
        log.Add("leader before any campaign: " + await ErrorOf(() => elections.LeaderAsync(new LeaderRequest { Name = election }, options).ResponseAsync));
        var won = await elections.CampaignAsync(new CampaignRequest { Name = election, Lease = a, Value = Bytes("a1") }, options);
        var aKey = (await kv.RangeAsync(new RangeRequest { Key = won.Leader.Key }, options)).Kvs.Single();
        log.Add($"campaign A: name {won.Leader.Name.ToStringUtf8()}, key {won.Leader.Key.ToStringUtf8()}, rev is the key's create revision: " +
            $"{won.Leader.Rev == aKey.CreateRevision}, lease is A: {won.Leader.Lease == a}");

        using var observeCancel = new CancellationTokenSource();
        using var observe = elections.Observe(new LeaderRequest { Name = election }, cancellationToken: observeCancel.Token);
        async Task<string> ObservedAsync()
        {
            Assert.True(await observe.ResponseStream.MoveNext(cancel.Token), "observe ended");
            var seen = observe.ResponseStream.Current;
            return $"observed {seen.Kv.Key.ToStringUtf8()} = {seen.Kv.Value.ToStringUtf8()} (header revision is the kv's mod revision: {seen.Header.Revision == seen.Kv.ModRevision})";
        }

        log.Add(await ObservedAsync());
        var leader = await elections.LeaderAsync(new LeaderRequest { Name = election }, options);
        log.Add($"leader: {leader.Kv.Key.ToStringUtf8()} = {leader.Kv.Value.ToStringUtf8()}");

        var challenger = elections.CampaignAsync(new CampaignRequest { Name = election, Lease = b, Value = Bytes("b1") }, options);
        var challengerKey = Bytes(prefix + "election/" + b.ToString("x", CultureInfo.InvariantCulture));
        await Eventually.TrueAsync(() => ExistsAsync(challengerKey), "B's candidate key", Patience);
        log.Add($"B waits while A leads: {!challenger.ResponseAsync.IsCompleted}");

        await elections.ProclaimAsync(new ProclaimRequest { Leader = won.Leader, Value = Bytes("a2") }, options);
        log.Add("proclaim a2: " + await ObservedAsync());
        var stale = new LeaderKey(won.Leader) { Rev = won.Leader.Rev + 1000 };
        log.Add("proclaim with a stale revision: " + await ErrorOf(() => elections.ProclaimAsync(new ProclaimRequest { Leader = stale, Value = Bytes("x") }, options).ResponseAsync));
        log.Add("proclaim without a leader: " + await ErrorOf(() => elections.ProclaimAsync(new ProclaimRequest { Value = Bytes("x") }, options).ResponseAsync));
        log.Add("resign without a leader: " + await ErrorOf(() => elections.ResignAsync(new ResignRequest(), options).ResponseAsync));
        log.Add("resign with a stale revision: " + await ErrorOf(() => elections.ResignAsync(new ResignRequest { Leader = stale }, options).ResponseAsync));
        log.Add($"A still leads: {(await elections.LeaderAsync(new LeaderRequest { Name = election }, options)).Kv.Value.ToStringUtf8()}");

        await elections.ResignAsync(new ResignRequest { Leader = won.Leader }, options);
        var next = await challenger.ResponseAsync;
        log.Add($"B leads after A resigned: {next.Leader.Key.ToStringUtf8()}");
        log.Add("after resign: " + await ObservedAsync());
        log.Add("proclaim by the resigned A: " + await ErrorOf(() => elections.ProclaimAsync(new ProclaimRequest { Leader = won.Leader, Value = Bytes("x") }, options).ResponseAsync));
        await elections.ResignAsync(new ResignRequest { Leader = next.Leader }, options);
        log.Add("leader after everyone resigned: " + await ErrorOf(() => elections.LeaderAsync(new LeaderRequest { Name = election }, options).ResponseAsync));
        log.Add("campaign with an unknown lease: " + await ErrorOf(() => elections.CampaignAsync(new CampaignRequest { Name = election, Lease = 0x7ab1, Value = Bytes("v") }, options).ResponseAsync));
        await observeCancel.CancelAsync();

        foreach (var id in new[] { a, b, c })
        {
            await leases.LeaseRevokeAsync(new LeaseRevokeRequest { ID = id }, options);
        }

        return log.Lines;
    }

    [Fact]
    public async Task Lock_and_election_services_answer_as_etcd_does()
    {
        var expected = await ScenarioAsync("http://" + etcd.Endpoint, "grpc/le/");
        Assert.Equal("lock A: <p>mutex/<A> (header revision set: True)", expected[0]);
        Assert.Contains("lock with an unknown lease: error Unknown: etcdserver: requested lease not found", expected);
        var actual = await ScenarioAsync(await FollowerAsync(), "grpc/le/");
        output.WriteLine(string.Join(Environment.NewLine, actual));
        Assert.Equal(expected, actual);
    }
}
