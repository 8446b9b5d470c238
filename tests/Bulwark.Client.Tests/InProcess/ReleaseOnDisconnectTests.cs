using Bulwark.TestSupport;

namespace Bulwark.Client.Tests.InProcess;

/// <summary>
/// The release-on-disconnect session against a gRPC Lease service that ends each keep-alive stream after two answers:
/// the stream carries the header, and its end loses the session at once; a TTL-mode session sends no header and opens
/// a new stream instead.
/// </summary>
public sealed class ReleaseOnDisconnectTests
{
    // Long enough that a cold start (JIT, first HTTP/2 stream) on a loaded machine cannot reach the deadline first.
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task The_stream_carries_the_header_and_its_end_loses_the_session()
    {
        await using var server = await FakeLeaseServer.StartAsync(answersPerStream: 2);
        var captured = new Processes.CapturedLog();
        await using var client = new BulwarkClient(new BulwarkClientOptions { Endpoints = [server.Url] }, captured);
        await using var session = await client.CreateSessionAsync(new SessionOptions { Ttl = Ttl, ReleaseOnDisconnect = true, KeepAliveInterval = TimeSpan.FromMilliseconds(100) });
        await Eventually.TrueAsync(() => session.IsLost, "the session to be lost when its stream ends");
        Assert.True(session.LostReason!.Contains("release-on-disconnect", StringComparison.Ordinal), $"{session.LostReason}; renewals {session.Renewals}; headers {string.Join(",", server.State.ReleaseHeaders)}{Environment.NewLine}{captured}");
        Assert.Equal(2, session.Renewals);
        Assert.Equal(["1"], server.State.ReleaseHeaders);
    }

    [Fact]
    public async Task A_ttl_session_sends_no_header_and_reopens_an_ended_stream()
    {
        await using var server = await FakeLeaseServer.StartAsync(answersPerStream: 2);
        await using var client = BulwarkClient.Connect(server.Url);
        await using var session = await client.CreateSessionAsync(new SessionOptions { Ttl = Ttl, KeepAliveInterval = TimeSpan.FromMilliseconds(100) });
        await Eventually.TrueAsync(() => session.Renewals >= 6 || session.IsLost, "six keep-alives over at least three streams");
        Assert.False(session.IsLost, session.LostReason);
        Assert.True(server.State.ReleaseHeaders.Count >= 3);
        Assert.All(server.State.ReleaseHeaders, Assert.Null);
    }
}
