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
    public void A_peer_no_traffic_is_expected_from_is_judged_by_this_nodes_connection_to_it()
    {
        // A follower's fellow follower (or any peer of a leader that stepped down): no messages expected from it.
        var tracker = new PeerHealthTracker(8, Ms(1000), Ms(50), startupGrace: Ms(10_000));
        tracker.Track(3, "n3");
        tracker.ConnectionState(3, connected: true, Ms(0));
        var up = Assert.Single(tracker.Evaluate(Ms(100), _ => false));
        Assert.Equal(PeerState.Up, up.State);
        Assert.True(up.Judged);
        Assert.StartsWith("connected; no traffic expected", up.Reason, StringComparison.Ordinal);

        // The connection is lost: not yet down (a redial may succeed), then DOWN once it stayed down past the threshold,
        // even though no traffic is expected from the peer and it is well within the startup grace.
        tracker.ConnectionState(3, connected: false, Ms(200));
        var lost = Assert.Single(tracker.Evaluate(Ms(700), _ => false));
        Assert.Equal(PeerState.Up, lost.State);
        Assert.False(lost.Judged);
        Assert.StartsWith("not judged yet: not connected for 500 ms", lost.Reason, StringComparison.Ordinal);
        tracker.ConnectionState(3, connected: false, Ms(1100));
        var down = Assert.Single(tracker.Evaluate(Ms(1200), _ => false));
        Assert.Equal(PeerState.Down, down.State);
        Assert.True(down.Judged);
        Assert.Equal("no connection for 1000 ms (down after 1000 ms)", down.Reason);

        // Also when traffic is expected from it (the leader's follower) and messages arrived just before the loss.
        tracker.MessageFrom(3, Ms(1150), isHeartbeatResponse: false);
        Assert.Equal(PeerState.Down, Assert.Single(tracker.Evaluate(Ms(1250), _ => true)).State);

        // Reconnected: UP again at once.
        tracker.ConnectionState(3, connected: true, Ms(5000));
        var back = Assert.Single(tracker.Evaluate(Ms(5010), _ => false));
        Assert.Equal(PeerState.Up, back.State);
        Assert.True(back.Judged);
    }

    [Fact]
    public void A_peer_never_connected_to_is_down_only_after_the_startup_grace()
    {
        var tracker = new PeerHealthTracker(8, Ms(1000), Ms(50), startupGrace: Ms(10_000));
        tracker.Track(2, "n2");
        tracker.ConnectionState(2, connected: false, Ms(0));
        var starting = Assert.Single(tracker.Evaluate(Ms(9_000), _ => false));
        Assert.Equal(PeerState.Up, starting.State);
        Assert.False(starting.Judged);
        var down = Assert.Single(tracker.Evaluate(Ms(10_000), _ => false));
        Assert.Equal(PeerState.Down, down.State);
        Assert.Equal("never connected in 10000 ms (down after 1000 ms)", down.Reason);
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
