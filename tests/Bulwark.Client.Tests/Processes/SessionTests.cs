using Bulwark.TestSupport;
using Xunit.Abstractions;

namespace Bulwark.Client.Tests.Processes;

/// <summary>
/// Sessions against a real server: the lease stays alive past its TTL while the client runs, and Lost fires when the
/// lease is revoked behind the session's back.
/// </summary>
public abstract class SessionTests(Backends backends, Server server, ITestOutputHelper log)
{
    private readonly Target target = new(backends, server);

    [Fact]
    public async Task A_session_keeps_its_lease_alive_past_the_ttl()
    {
        await using var client = target.Client();
        // A TTL of 6 s: with 2 s a session is lost (by design) after 1.3 s without an answered renewal, which one
        // election on a loaded CI machine running several test projects at once once took.
        await using var session = await client.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromSeconds(6) });

        // Six renewals a third of the TTL apart: the lease has lived for twice its TTL.
        await Eventually.TrueAsync(() => session.Renewals >= 6 || session.IsLost, "six keep-alives", diagnostics: target.Logs);
        Assert.False(session.IsLost, session.LostReason);
        var ttl = await client.LeaseTimeToLiveAsync(session.LeaseId);
        Assert.True(ttl.TTL > 0, $"the server says the lease has TTL {ttl.TTL}");
    }

    [Fact]
    public async Task Lost_fires_when_the_lease_is_revoked_behind_the_sessions_back()
    {
        await using var client = target.Client();
        await using var session = await client.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromSeconds(30) });
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = session.Lost.Register(() => lost.TrySetResult());

        await using (var other = target.Client())
        {
            await other.LeaseRevokeAsync(session.LeaseId);
        }

        // The next keep-alive (within a third of the TTL) hears that the lease is gone.
        await lost.Task.WaitAsync(Eventually.DefaultPatience);
        Assert.True(session.IsLost);
        log.WriteLine($"lost: {session.LostReason}");
        Assert.Contains("gone", session.LostReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Closing_a_session_revokes_its_lease_and_fires_lost()
    {
        await using var client = target.Client();
        var session = await client.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromSeconds(30) });
        await client.PutAsync(Target.Unique("session-key"), "v", session.LeaseId);
        await session.CloseAsync();
        Assert.True(session.IsLost);
        Assert.Equal("closed", session.LostReason);
        var ttl = await client.LeaseTimeToLiveAsync(session.LeaseId);
        Assert.Equal(-1, ttl.TTL);
    }
}

[Collection(ClientProcessCollection.Name)]
public sealed class SessionTestsOnBulwark(Backends backends, ITestOutputHelper log) : SessionTests(backends, Server.Bulwark, log);

[Collection(ClientProcessCollection.Name)]
public sealed class SessionTestsOnEtcd(Backends backends, ITestOutputHelper log) : SessionTests(backends, Server.Etcd, log);
