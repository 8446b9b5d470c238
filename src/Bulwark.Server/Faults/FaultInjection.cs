using System.Globalization;
using Bulwark.Storage.FileSystem;

namespace Bulwark.Server.Faults;

/// <summary>
/// A member's fault points (`bulwark serve --unsafe-fault-injection` only; without the flag none of this is constructed):
/// the storage points of <see cref="FaultPoints"/> behind the member's file system, and <c>clock-jump</c> on the member's
/// clock. <see cref="Apply"/> is what the admin call (<c>POST /debug/faults</c>) does; <see cref="Describe"/> what
/// <c>GET /debug/faults</c> answers.
/// </summary>
public sealed class FaultInjection
{
    public const string ClockJump = "clock-jump";

    /// <summary>Every point the admin call accepts.</summary>
    public static readonly IReadOnlyList<string> PointNames = [.. FaultPoints.Names, ClockJump];

    /// <summary>The longest single delay or jump accepted (a typo of extra zeros must not wedge a member for days).</summary>
    public static readonly TimeSpan MaxMagnitude = TimeSpan.FromHours(1);

    public FaultInjection(IFileSystem realFileSystem, TimeProvider? realClock = null)
    {
        FileSystem = new FaultInjectingFileSystem(realFileSystem, Points);
        Clock = new JumpableClock(realClock);
    }

    public FaultPoints Points { get; } = new();

    /// <summary>The file system the member's storage must use.</summary>
    public FaultInjectingFileSystem FileSystem { get; }

    /// <summary>The clock the member's host must use.</summary>
    public JumpableClock Clock { get; }

    /// <summary>
    /// Turns a point on or off (or, for <c>clock-jump</c>, jumps the clock by <paramref name="delayMs"/>: negative is
    /// back). Throws <see cref="ArgumentException"/> with the reason, changing nothing, on a request that makes no sense.
    /// </summary>
    public void Apply(string? point, long? delayMs, bool? enabled)
    {
        if (string.IsNullOrEmpty(point))
        {
            throw new ArgumentException($"'point' is required; one of {string.Join(", ", PointNames)}");
        }

        if (!PointNames.Contains(point))
        {
            throw new ArgumentException($"unknown fault point '{point}'; one of {string.Join(", ", PointNames)}");
        }

        if (delayMs is { } ms && Math.Abs(ms) > (long)MaxMagnitude.TotalMilliseconds)
        {
            throw new ArgumentException($"delayMs {ms} is beyond ±{(long)MaxMagnitude.TotalMilliseconds} ms");
        }

        switch (point)
        {
            case ClockJump:
                if (delayMs is not { } jump || jump == 0)
                {
                    throw new ArgumentException("clock-jump needs a non-zero 'delayMs' (ms to jump; negative jumps back)");
                }

                if (enabled == false)
                {
                    throw new ArgumentException("clock-jump cannot be disabled; jump back by the same delayMs instead");
                }

                Clock.Jump(TimeSpan.FromMilliseconds(jump));
                break;
            case FaultPoints.FsyncDelay:
                var on = Enabled(point, enabled);
                if (on && delayMs is not > 0)
                {
                    throw new ArgumentException("fsync-delay needs a positive 'delayMs' when enabled");
                }

                Points.SetFsyncDelay(on ? TimeSpan.FromMilliseconds(delayMs!.Value) : TimeSpan.Zero);
                break;
            case FaultPoints.FsyncError:
                NoDelay(point, delayMs);
                Points.SetFsyncError(Enabled(point, enabled));
                break;
            default:
                NoDelay(point, delayMs);
                Points.SetDiskFull(Enabled(point, enabled));
                break;
        }
    }

    /// <summary>The active points and the clock's offset, as the GET answers them.</summary>
    public FaultState Describe() => new(
        [.. Points.Active().Select(p => new ActivePoint(p.Name, p.DelayMs == 0 ? null : p.DelayMs))],
        (long)Clock.Offset.TotalMilliseconds);

    private static bool Enabled(string point, bool? enabled) =>
        enabled ?? throw new ArgumentException($"{point} needs 'enabled' (true or false)");

    private static void NoDelay(string point, long? delayMs)
    {
        if (delayMs is not null)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{point} takes no 'delayMs'"));
        }
    }
}

/// <summary>What <c>GET /debug/faults</c> answers.</summary>
public sealed record FaultState(IReadOnlyList<ActivePoint> Active, long ClockOffsetMs);

/// <summary>One active fault point (delayMs only for fsync-delay).</summary>
public sealed record ActivePoint(string Point, long? DelayMs);
