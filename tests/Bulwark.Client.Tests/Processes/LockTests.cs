using Bulwark.TestSupport;
using Xunit.Abstractions;

namespace Bulwark.Client.Tests.Processes;

/// <summary>
/// DistributedLock against a real server: contenders incrementing a counter under the lock with guarded writes end
/// with the exact count and strictly increasing fencing tokens; a holder whose lease was revoked has its guarded
/// write refused and changes nothing.
/// </summary>
public abstract class LockTests(Backends backends, Server server, ITestOutputHelper log)
{
    private const int Contenders = 8;
    private const int IncrementsEach = 5;
    private readonly Target target = new(backends, server);

    [Fact]
    public async Task Contenders_increment_a_counter_under_the_lock_exactly_once_each_with_increasing_tokens()
    {
        var name = Target.Unique("lock");
        var counter = name + "-counter";
        await using var client = target.Client();
        await client.PutAsync(counter, "0");
        var tokens = new List<FencingToken>();
        var holders = 0;
        var maxHolders = 0;

        await Task.WhenAll(Enumerable.Range(0, Contenders).Select(c => Task.Run(async () =>
        {
            await using var session = await client.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromSeconds(10) });
            var mutex = new DistributedLock(session, name);
            for (var i = 0; i < IncrementsEach; i++)
            {
                await using var held = await mutex.AcquireAsync();
                var inside = Interlocked.Increment(ref holders);
                InterlockedMax(ref maxHolders, inside);
                lock (tokens)
                {
                    tokens.Add(held.Token);
                }

                var current = int.Parse((await client.GetAsync(counter)).Kvs[0].Value.ToStringUtf8(), System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(await client.TryPutAsync(held.Token, counter, (current + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)), "a current holder's guarded write was refused");
                Interlocked.Decrement(ref holders);
                await held.ReleaseAsync();
            }
        })));

        var final = (await client.GetAsync(counter)).Kvs[0].Value.ToStringUtf8();
        log.WriteLine($"counter {final}; tokens {string.Join(", ", tokens.Select(t => t.Revision))}");
        Assert.Equal((Contenders * IncrementsEach).ToString(System.Globalization.CultureInfo.InvariantCulture), final);
        Assert.Equal(1, maxHolders);
        Assert.Equal(Contenders * IncrementsEach, tokens.Count);
        for (var i = 1; i < tokens.Count; i++)
        {
            Assert.True(tokens[i].Revision > tokens[i - 1].Revision, $"token {i} ({tokens[i]}) is not after token {i - 1} ({tokens[i - 1]})");
        }
    }

    [Fact]
    public async Task A_stale_holder_whose_lease_was_revoked_has_its_guarded_write_refused()
    {
        var name = Target.Unique("stale");
        var guarded = name + "-data";
        await using var client = target.Client();
        await client.PutAsync(guarded, "before");
        await using var session = await client.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromSeconds(30) });
        var held = await new DistributedLock(session, name).AcquireAsync();
        Assert.True(await client.TryPutAsync(held.Token, guarded, "by-holder"));

        // The lease goes behind the holder's back (as if it had expired during a pause); a new holder takes over.
        await client.LeaseRevokeAsync(session.LeaseId);
        await using var successorSession = await client.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromSeconds(30) });
        await using var successor = await new DistributedLock(successorSession, name).AcquireAsync();
        Assert.True(successor.Token.Revision > held.Token.Revision);
        Assert.True(await client.TryPutAsync(successor.Token, guarded, "by-successor"));

        var before = await client.GetAsync(guarded);
        Assert.False(await client.TryPutAsync(held.Token, guarded, "by-stale-holder"));
        var after = await client.GetAsync(guarded);
        Assert.Equal("by-successor", after.Kvs[0].Value.ToStringUtf8());
        Assert.Equal(before.Kvs[0].ModRevision, after.Kvs[0].ModRevision);
        Assert.Equal(before.Header.Revision, after.Header.Revision);

        // The stale holder is told too: its handle's Lost fires (key deleted, then the session's keep-alive fails).
        await Eventually.TrueAsync(() => held.Lost.IsCancellationRequested, "the stale handle's Lost", diagnostics: target.Logs);
        await held.DisposeAsync();
    }

    [Fact]
    public async Task A_waiting_contender_gets_the_lock_when_the_holder_releases()
    {
        var name = Target.Unique("wait");
        await using var client = target.Client();
        await using var first = await client.CreateSessionAsync();
        await using var second = await client.CreateSessionAsync();
        var held = await new DistributedLock(first, name).AcquireAsync();
        var waiting = new DistributedLock(second, name).AcquireAsync();
        // Once the second contender's key is queued behind the holder's, it must still be waiting.
        await Eventually.TrueAsync(
            async () => (await client.RangeAsync(new Api.Etcdserverpb.RangeRequest
            {
                Key = Google.Protobuf.ByteString.CopyFromUtf8(name + "/"),
                RangeEnd = Google.Protobuf.ByteString.CopyFromUtf8(name + "0"),
                CountOnly = true,
            })).Count == 2,
            "the second contender to queue",
            diagnostics: target.Logs);
        Assert.False(waiting.IsCompleted, "the second contender got the lock while it was held");
        await held.ReleaseAsync();
        Assert.True(held.Lost.IsCancellationRequested);
        await using var next = await waiting.WaitAsync(Eventually.DefaultPatience);
        Assert.True(next.Token.Revision > held.Token.Revision);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}

[Collection(ClientProcessCollection.Name)]
public sealed class LockTestsOnBulwark(Backends backends, ITestOutputHelper log) : LockTests(backends, Server.Bulwark, log);

[Collection(ClientProcessCollection.Name)]
public sealed class LockTestsOnEtcd(Backends backends, ITestOutputHelper log) : LockTests(backends, Server.Etcd, log);
