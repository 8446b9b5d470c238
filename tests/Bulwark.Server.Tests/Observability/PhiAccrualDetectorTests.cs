using Bulwark.Server.Observability;

namespace Bulwark.Server.Tests.Observability;

public sealed class PhiAccrualDetectorTests
{
    private static PhiAccrualDetector Detector() => new(100, TimeSpan.FromMilliseconds(25), TimeSpan.FromMilliseconds(50));

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void Regular_arrivals_keep_phi_low_and_silence_raises_it_monotonically()
    {
        var detector = Detector();
        for (var i = 0; i <= 50; i++)
        {
            detector.Heartbeat(Ms(i * 50));
        }

        var last = 50 * 50;
        Assert.True(detector.Phi(Ms(last + 50)) < 1, $"phi one interval after the last arrival is {detector.Phi(Ms(last + 50))}");
        var previous = 0.0;
        foreach (var silence in new[] { 50, 100, 150, 200, 300, 500, 1000 })
        {
            var phi = detector.Phi(Ms(last + silence));
            Assert.True(phi >= previous, $"phi fell from {previous} to {phi} at {silence} ms of silence");
            previous = phi;
        }

        Assert.True(detector.Phi(Ms(last + 300)) >= NodeObservability.SuspectPhi, $"phi after 300 ms of silence (6 intervals) is {detector.Phi(Ms(last + 300))}");
        Assert.Equal(100, detector.Phi(Ms(last + 60_000)));
    }

    [Fact]
    public void Jittery_arrivals_widen_the_distribution_so_the_same_silence_is_less_suspicious()
    {
        var random = new Random(42);
        var jittery = Detector();
        var regular = Detector();
        double t = 0;
        for (var i = 0; i <= 100; i++)
        {
            regular.Heartbeat(Ms(i * 100));
            jittery.Heartbeat(Ms(t));
            t += 100 + ((random.NextDouble() - 0.5) * 160);
        }

        Assert.True(jittery.StdDevMs > regular.StdDevMs);
        var regularPhi = regular.Phi(Ms((100 * 100) + 250));
        var jitteryPhi = jittery.Phi(jittery.LastArrival!.Value + Ms(250));
        Assert.True(jitteryPhi < regularPhi, $"jittery phi {jitteryPhi} should be below regular phi {regularPhi} after the same 250 ms silence");
    }

    [Fact]
    public void No_suspicion_before_two_arrivals_and_arrivals_must_not_go_back_in_time()
    {
        var detector = Detector();
        Assert.Equal(0, detector.Phi(Ms(10_000)));
        detector.Heartbeat(Ms(1000));
        Assert.Equal(0, detector.Phi(Ms(10_000)));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => detector.Heartbeat(Ms(999)));
        Assert.Contains("before the previous one", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PhiAccrualDetector(1, Ms(10), Ms(10)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PhiAccrualDetector(10, TimeSpan.Zero, Ms(10)));
    }

    [Fact]
    public void The_window_forgets_old_intervals()
    {
        var detector = new PhiAccrualDetector(10, Ms(1), TimeSpan.Zero);
        double t = 0;
        for (var i = 0; i < 20; i++)
        {
            t += 1000;
            detector.Heartbeat(Ms(t));
        }

        for (var i = 0; i < 10; i++)
        {
            t += 100;
            detector.Heartbeat(Ms(t));
        }

        Assert.Equal(10, detector.SampleCount);
        Assert.Equal(100, detector.MeanIntervalMs, 6);
    }
}
