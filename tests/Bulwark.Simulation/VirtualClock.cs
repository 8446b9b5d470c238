namespace Bulwark.Simulation;

/// <summary>
/// The simulation's virtual time as a <see cref="TimeProvider"/> timestamp (microseconds), for production code that
/// measures elapsed time (the snapshot receiver's disk-full cooldown): wall time would make a seed's run vary.
/// Timers are not offered; the simulator schedules its own events.
/// </summary>
public sealed class VirtualClock(EventScheduler scheduler) : TimeProvider
{
    public override long TimestampFrequency => 1_000_000;

    public override long GetTimestamp() => scheduler.Now;
}
