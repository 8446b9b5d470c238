using Bulwark.Server.Observability;

namespace Bulwark.Server.Tests.Observability;

public sealed class PeerHealthTrackerTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void A_silent_peer_goes_up_then_suspect_then_down_with_reasons_and_recovers()
    {
        var tracker = new PeerHealthTracker(8, Ms(1000), Ms(50));
        tracker.Track(2, "n2");
        _ = tracker.Evaluate(Ms(0), _ => true);
        for (var i = 0; i <= 40; i++)
        {
            tracker.HeartbeatSent(2, Ms(i * 50));
            tracker.MessageFrom(2, Ms((i * 50) + 3), isHeartbeatResponse: true);
        }

        var last = (40 * 50) + 3;
        var up = Assert.Single(tracker.Evaluate(Ms(last + 40), _ => true));
        Assert.Equal(PeerState.Up, up.State);
        Assert.Equal(3, up.RoundTripMs!.Value, 6);

        var suspect = Assert.Single(tracker.Evaluate(Ms(last + 700), _ => true));
        Assert.Equal(PeerState.Suspect, suspect.State);
        Assert.Contains("phi", suspect.Reason, StringComparison.Ordinal);

        var down = Assert.Single(tracker.Evaluate(Ms(last + 1500), _ => true));
        Assert.Equal(PeerState.Down, down.State);
        Assert.Contains("silent for 1500 ms", down.Reason, StringComparison.Ordinal);

        tracker.MessageFrom(2, Ms(last + 1600), isHeartbeatResponse: false);
        Assert.Equal(PeerState.Up, Assert.Single(tracker.Evaluate(Ms(last + 1610), _ => true)).State);
    }

    [Fact]
    public void A_peer_no_traffic_is_expected_from_is_not_judged()
    {
        var tracker = new PeerHealthTracker(8, Ms(1000), Ms(50));
        tracker.Track(3, "n3");
        var health = Assert.Single(tracker.Evaluate(Ms(60_000), _ => false));
        Assert.Equal(PeerState.Up, health.State);
        Assert.Contains("not judged", health.Reason, StringComparison.Ordinal);
        var due = Assert.Single(tracker.Evaluate(Ms(60_000), _ => true));
        Assert.Equal(PeerState.Up, due.State);
        var down = Assert.Single(tracker.Evaluate(Ms(61_500), _ => true));
        Assert.Equal(PeerState.Down, down.State);
        Assert.Equal("never heard from in 1500 ms (down after 1000 ms)", down.Reason);
    }

    [Fact]
    public void The_smoothed_round_trip_moves_an_eighth_of_the_way_to_each_new_one()
    {
        var tracker = new PeerHealthTracker(8, Ms(1000), Ms(50));
        tracker.Track(2, "n2");
        Assert.Null(Assert.Single(tracker.Evaluate(Ms(0), _ => true)).SmoothedRoundTripMs);
        tracker.HeartbeatSent(2, Ms(0));
        tracker.MessageFrom(2, Ms(10), isHeartbeatResponse: true);
        Assert.Equal(10, Assert.Single(tracker.Evaluate(Ms(10), _ => true)).SmoothedRoundTripMs!.Value, 6);
        tracker.HeartbeatSent(2, Ms(50));
        tracker.MessageFrom(2, Ms(52), isHeartbeatResponse: true);
        var health = Assert.Single(tracker.Evaluate(Ms(52), _ => true));
        Assert.Equal(2, health.RoundTripMs!.Value, 6);
        Assert.Equal(9, health.SmoothedRoundTripMs!.Value, 6);
    }

    [Fact]
    public void An_unanswered_heartbeat_is_timed_from_its_first_send()
    {
        var tracker = new PeerHealthTracker(8, Ms(1000), Ms(50));
        tracker.Track(2, "n2");
        tracker.HeartbeatSent(2, Ms(100));
        tracker.HeartbeatSent(2, Ms(150));
        tracker.MessageFrom(2, Ms(170), isHeartbeatResponse: true);
        Assert.Equal(Ms(70), tracker.RoundTrip(2));
    }
}
