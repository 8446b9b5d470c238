using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Api;
using Bulwark.Server.Api.Watches;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Server.Tests.Api;

/// <summary>
/// etcd's "require leader" watches (metadata <c>hasleader: true</c>, which clientv3's WithRequireLeader and
/// Bulwark.Client send): refused on a member that knows no leader, and ended with "etcdserver: no leader" once the member
/// has been leaderless for three election timeouts, so the client resumes on a member that hears the cluster. A watch
/// without the metadata stays open, as in etcd.
/// </summary>
public sealed class RequireLeaderWatchTests
{
    private static readonly Metadata RequireLeader = new() { { LeaderlessStreams.MetadataKey, LeaderlessStreams.MetadataValue } };

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static WatchRequest Create(string key) => new() { CreateRequest = new WatchCreateRequest { Key = B(key), RangeEnd = B(key[..^1] + (char)(key[^1] + 1)) } };

    [Fact]
    public void A_stream_ends_only_after_three_leaderless_checks_in_a_row()
    {
        var time = new FakeTimeProvider();
        var leader = true;
        using var streams = new LeaderlessStreams(() => leader, TimeSpan.FromMilliseconds(500), time);
        using var registration = streams.Register(CancellationToken.None);

        leader = false;
        time.Advance(TimeSpan.FromMilliseconds(1_000)); // two checks without a leader
        leader = true;
        time.Advance(TimeSpan.FromMilliseconds(500)); // a leader again: the count starts over
        leader = false;
        time.Advance(TimeSpan.FromMilliseconds(1_000));
        Assert.False(registration.Token.IsCancellationRequested);
        Assert.False(registration.LostLeader);

        time.Advance(TimeSpan.FromMilliseconds(500)); // the third in a row
        Assert.True(registration.Token.IsCancellationRequested);
        Assert.True(registration.LostLeader);
    }

    [Fact]
    public void A_member_without_a_leader_refuses_the_stream_with_etcds_error()
    {
        using var streams = new LeaderlessStreams(() => false, TimeSpan.FromMilliseconds(500), new FakeTimeProvider());
        var refused = Assert.Throws<RpcException>(() => streams.Register(CancellationToken.None));
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Equal(NodeErrorStatus.NoLeaderMessage, refused.Status.Detail);
    }

    [Fact]
    public void A_finished_stream_is_forgotten_and_a_call_that_ends_cancels_its_token()
    {
        var time = new FakeTimeProvider();
        using var callEnded = new CancellationTokenSource();
        var leader = true;
        using var withLeader = new LeaderlessStreams(() => leader, TimeSpan.FromMilliseconds(500), time);
        var registration = withLeader.Register(callEnded.Token);
        callEnded.Cancel();
        Assert.True(registration.Token.IsCancellationRequested);
        Assert.False(registration.LostLeader);
        registration.Dispose();
        leader = false;
        time.Advance(TimeSpan.FromSeconds(5)); // nothing left to end: no use of the disposed registration
    }

    [Fact]
    public async Task A_member_that_lost_its_leader_ends_require_leader_watches_and_keeps_the_others()
    {
        await using var cluster = new ApiCluster();
        await cluster.StartAllAsync();
        var leader = await cluster.Nodes.WaitForLeaderAsync();
        var survivor = (leader + 1) % 3;
        var other = (leader + 2) % 3;

        using var required = cluster.Watch(survivor).Watch(RequireLeader);
        await required.RequestStream.WriteAsync(Create("rl/"));
        Assert.True((await WatchCalls.NextAsync(required)).Created);
        using var plain = cluster.Watch(survivor).Watch();
        await plain.RequestStream.WriteAsync(Create("rl/"));
        Assert.True((await WatchCalls.NextAsync(plain)).Created);

        // The survivor alone is no quorum: it loses its leader and stays without one.
        await cluster.StopAsync(leader);
        await cluster.StopAsync(other);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ended = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await required.ResponseStream.MoveNext(deadline.Token))
            {
                Assert.Empty(required.ResponseStream.Current.Events); // nothing was written under rl/
            }
        });
        Assert.Equal(StatusCode.Unavailable, ended.StatusCode);
        Assert.Equal(NodeErrorStatus.NoLeaderMessage, ended.Status.Detail);

        // A new require-leader watch is refused at once; one without the metadata is still served.
        using var again = cluster.Watch(survivor).Watch(RequireLeader);
        await again.RequestStream.WriteAsync(Create("rl/"));
        var refused = await Assert.ThrowsAsync<RpcException>(() => again.ResponseStream.MoveNext(deadline.Token));
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        await plain.RequestStream.WriteAsync(new WatchRequest { ProgressRequest = new WatchProgressRequest() });
        var progress = await WatchCalls.NextAsync(plain);
        Assert.False(progress.Canceled);
    }
}
