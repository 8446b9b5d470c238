namespace Bulwark.Simulation;

/// <summary>
/// Virtual time. Events run one at a time in (time, insertion order); nothing else advances the clock, so a run
/// is a pure function of its seed. Times are microseconds since the start of the run.
/// </summary>
public sealed class EventScheduler
{
    private readonly PriorityQueue<Action, (long Time, long Sequence)> queue = new();
    private long sequence;

    public long Now { get; private set; }

    public long EventsRun { get; private set; }

    public int Pending => queue.Count;

    public void At(long time, Action action)
    {
        if (time < Now)
        {
            throw new ArgumentOutOfRangeException(nameof(time), time, $"cannot schedule in the past (now {Now})");
        }

        queue.Enqueue(action, (time, sequence++));
    }

    public void After(long delay, Action action) => At(Now + Math.Max(0, delay), action);

    /// <summary>Runs events until the queue is empty, <paramref name="until"/> is reached, or <paramref name="stop"/> says so.</summary>
    public void RunUntil(long until, Func<bool>? stop = null)
    {
        while (queue.TryPeek(out _, out var key) && key.Time <= until)
        {
            if (stop is not null && stop())
            {
                return;
            }

            var action = queue.Dequeue();
            Now = key.Time;
            EventsRun++;
            action();
        }

        if (stop is null || !stop())
        {
            Now = Math.Max(Now, until);
        }
    }
}
