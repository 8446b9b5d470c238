using Bulwark.Client.Sessions;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Client.Tests.Unit;

/// <summary>
/// The session's loss deadline on a fake clock: guaranteed until the last successful keep-alive's send time plus the
/// TTL, lost a safety margin before that, at once when the server says the lease is gone, and exactly once.
/// </summary>
public sealed class LeaseGuaranteeTests
{
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(3);

    [Fact]
    public void Lost_fires_at_send_time_plus_ttl_minus_margin_not_before()
    {
        var time = new FakeTimeProvider();
        var reasons = new List<string>();
        var sent = time.GetTimestamp();
        time.Advance(TimeSpan.FromSeconds(2)); // the grant's answer came 2 s after it was sent
        using var guarantee = new LeaseGuarantee(time, Margin, sent, ttlSeconds: 9, reasons.Add);

        // Counted from the send time: 9 - 3 = 6 s after sending, i.e. 4 s after the answer.
        time.Advance(TimeSpan.FromSeconds(4) - TimeSpan.FromMilliseconds(1));
        Assert.Empty(reasons);
        Assert.False(guarantee.IsLost);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Single(reasons);
        Assert.True(guarantee.IsLost);
        Assert.Contains("deadline", reasons[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_renewal_moves_the_deadline_from_its_own_send_time()
    {
        var time = new FakeTimeProvider();
        var reasons = new List<string>();
        using var guarantee = new LeaseGuarantee(time, Margin, time.GetTimestamp(), ttlSeconds: 9, reasons.Add);
        time.Advance(TimeSpan.FromSeconds(3));
        var sent = time.GetTimestamp();
        time.Advance(TimeSpan.FromSeconds(1));
        guarantee.Renewed(sent, 9);

        // Deadline now: 3 + 9 - 3 = 9 s after the start; 4 s have passed.
        time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        Assert.Empty(reasons);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Single(reasons);
    }

    [Fact]
    public void A_late_answer_to_an_old_keep_alive_never_shortens_the_guarantee()
    {
        var time = new FakeTimeProvider();
        var reasons = new List<string>();
        var first = time.GetTimestamp();
        using var guarantee = new LeaseGuarantee(time, Margin, first, ttlSeconds: 9, reasons.Add);
        time.Advance(TimeSpan.FromSeconds(3));
        guarantee.Renewed(time.GetTimestamp(), 9); // until 12 s
        var until = guarantee.GuaranteedUntil;
        guarantee.Renewed(first, 9); // an answer to the first request, arriving late: until 9 s
        Assert.Equal(until, guarantee.GuaranteedUntil);
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Empty(reasons);
    }

    [Fact]
    public void The_server_saying_the_lease_is_gone_loses_at_once_and_only_once()
    {
        var time = new FakeTimeProvider();
        var reasons = new List<string>();
        using var guarantee = new LeaseGuarantee(time, Margin, time.GetTimestamp(), ttlSeconds: 9, reasons.Add);
        guarantee.Renewed(time.GetTimestamp(), 0);
        Assert.Single(reasons);
        Assert.Contains("gone", reasons[0], StringComparison.Ordinal);

        // Neither the timer nor a later renewal revives it or fires again.
        guarantee.Renewed(time.GetTimestamp(), 9);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Single(reasons);
        Assert.True(guarantee.IsLost);
    }

    [Fact]
    public void Keep_alives_every_third_of_the_ttl_keep_it_alive_indefinitely()
    {
        var time = new FakeTimeProvider();
        var reasons = new List<string>();
        using var guarantee = new LeaseGuarantee(time, Margin, time.GetTimestamp(), ttlSeconds: 9, reasons.Add);
        for (var i = 0; i < 100; i++)
        {
            time.Advance(TimeSpan.FromSeconds(3));
            guarantee.Renewed(time.GetTimestamp(), 9);
        }

        Assert.Empty(reasons);
    }
}
