using Bulwark.Server.Health;

namespace Bulwark.Server.Tests.Health;

public sealed class LeaderSilenceDetectorTests
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromMilliseconds(100);

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    private static LeaderSilenceDetector Detector() => new(Heartbeat, suspectPhi: 3, minSilenceHeartbeats: 3);

    /// <summary>Feeds <paramref name="count"/> arrivals from leader 1 every <paramref name="gapMs"/> ms (with jitter) and returns the last.</summary>
    private static double Feed(LeaderSilenceDetector detector, int count, double gapMs, double jitterMs = 0, int seed = 1)
    {
        var random = new Random(seed);
        double t = 1_000;
        for (var i = 0; i < count; i++)
        {
            t += gapMs + ((random.NextDouble() - 0.5) * 2 * jitterMs);
            detector.Heard(1, Ms(t));
        }

        return t;
    }

    [Fact]
    public void ASilentLeaderIsSuspectedAfterAFewHeartbeatsNotAnElectionTimeout()
    {
        var detector = Detector();
        detector.Follow(1);
        var last = Feed(detector, 50, 100);

        Assert.Null(detector.Check(Ms(last + 150)));
        Assert.Null(detector.Check(Ms(last + 250)));
        LeaderSilence? silent = null;
        var at = last;
        while (silent is null && at < last + 1_000)
        {
            at += 10;
            silent = detector.Check(Ms(at));
        }

        Assert.NotNull(silent);
        Assert.Equal(1UL, silent.Leader);
        Assert.InRange(at - last, 300, 500); // a few heartbeats, half an election timeout at most
        Assert.True(silent.Phi >= 3);
    }

    [Fact]
    public void ItReportsOncePerSilenceAndAgainAfterTheLeaderSpokeAndWentSilentAgain()
    {
        var detector = Detector();
        detector.Follow(1);
        var last = Feed(detector, 20, 100);
        Assert.NotNull(detector.Check(Ms(last + 600)));
        Assert.Null(detector.Check(Ms(last + 700)));

        detector.Heard(1, Ms(last + 800));
        Assert.Null(detector.Check(Ms(last + 850)));
        Assert.NotNull(detector.Check(Ms(last + 1_500)));
    }

    [Fact]
    public void ItNeverSuspectsBeforeTheFloorEvenWhenMessagesCameFarMoreOftenThanHeartbeats()
    {
        // A leader streaming appends: a message every 2 ms, so phi alone would fire after a few ms of quiet.
        var detector = Detector();
        detector.Follow(1);
        var last = Feed(detector, 50, 2);
        Assert.Null(detector.Check(Ms(last + 100)));
        Assert.Null(detector.Check(Ms(last + 299)));
        Assert.NotNull(detector.Check(Ms(last + 301)));
    }

    [Fact]
    public void WithShortHeartbeatsTheAbsoluteFloorHolds()
    {
        var detector = new LeaderSilenceDetector(TimeSpan.FromMilliseconds(50), suspectPhi: 3, minSilenceHeartbeats: 3, minSilence: Ms(250));
        detector.Follow(1);
        var last = Feed(detector, 50, 50);
        Assert.Null(detector.Check(Ms(last + 200))); // 4 heartbeats, phi far above 3: still under 250 ms
        Assert.NotNull(detector.Check(Ms(last + 251)));
    }

    [Fact]
    public void AJitteryLeaderNeedsALongerSilence()
    {
        var regular = Detector();
        regular.Follow(1);
        var jittery = Detector();
        jittery.Follow(1);
        var lastRegular = Feed(regular, 50, 100);
        var lastJittery = Feed(jittery, 50, 150, jitterMs: 140, seed: 7); // gaps of 10-290 ms

        Assert.NotNull(regular.Check(Ms(lastRegular + 400)));
        Assert.Null(jittery.Check(Ms(lastJittery + 400)));
    }

    [Fact]
    public void NoHistoryNoLeaderOrAnotherPeerMeansNoSuspicion()
    {
        var detector = Detector();
        Assert.Null(detector.Check(Ms(10_000))); // no leader

        detector.Follow(1);
        var last = Feed(detector, LeaderSilenceDetector.MinSamples - 1, 100);
        Assert.Null(detector.Check(Ms(last + 5_000))); // too few gaps learned: the election timeout decides

        detector.Follow(2); // a new leader starts a fresh history; 1's messages no longer count
        Feed(detector, 50, 100);
        Assert.Null(detector.Check(Ms(last + 10_000)));
    }
}
