using Bulwark.Server.Faults;
using Bulwark.Storage.FileSystem;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Server.Tests.Faults;

public sealed class FaultInjectionTests
{
    private readonly FaultInjection faults = new(new InMemoryFileSystem(), new FakeTimeProvider());

    [Fact]
    public void SwitchesEachPointOnAndOff()
    {
        faults.Apply("fsync-delay", 50, true);
        faults.Apply("fsync-error", null, true);
        faults.Apply("disk-full", null, true);
        faults.Apply("clock-jump", -1500, null);
        var state = faults.Describe();
        Assert.Equal([new ActivePoint("fsync-delay", 50), new ActivePoint("fsync-error", null), new ActivePoint("disk-full", null)], state.Active);
        Assert.Equal(-1500, state.ClockOffsetMs);
        Assert.Equal(TimeSpan.FromMilliseconds(50), faults.FileSystem.Points.FsyncDelayTime);

        faults.Apply("fsync-delay", null, false);
        faults.Apply("fsync-error", null, false);
        faults.Apply("disk-full", null, false);
        faults.Apply("clock-jump", 1500, true);
        Assert.Equal(new FaultState([], 0), faults.Describe() with { Active = [] });
        Assert.Empty(faults.Describe().Active);
    }

    [Theory]
    [InlineData(null, null, true, "'point' is required")]
    [InlineData("slow-disk", 50L, true, "unknown fault point 'slow-disk'")]
    [InlineData("fsync-delay", null, true, "positive 'delayMs'")]
    [InlineData("fsync-delay", -5L, true, "positive 'delayMs'")]
    [InlineData("fsync-delay", 50L, null, "needs 'enabled'")]
    [InlineData("fsync-error", 5L, true, "takes no 'delayMs'")]
    [InlineData("disk-full", null, null, "needs 'enabled'")]
    [InlineData("clock-jump", null, true, "non-zero 'delayMs'")]
    [InlineData("clock-jump", 0L, true, "non-zero 'delayMs'")]
    [InlineData("clock-jump", 500L, false, "cannot be disabled")]
    [InlineData("clock-jump", 3_600_001L, true, "beyond")]
    public void RefusesNonsenseAndChangesNothing(string? point, long? delayMs, bool? enabled, string why)
    {
        faults.Apply("disk-full", null, true);
        var before = faults.Describe();
        var e = Assert.Throws<ArgumentException>(() => faults.Apply(point, delayMs, enabled));
        Assert.Contains(why, e.Message);
        var after = faults.Describe();
        Assert.Equal(before.Active, after.Active);
        Assert.Equal(before.ClockOffsetMs, after.ClockOffsetMs);
    }
}
