namespace Bulwark.Cli.Supervision;

/// <summary>What to do after a child exited: restart it after <see cref="Delay"/>, or leave it stopped for <see cref="Reason"/>.</summary>
public sealed record RestartDecision(bool Restart, TimeSpan Delay, string Reason)
{
    public static RestartDecision After(TimeSpan delay) => new(true, delay, $"restarting in {delay.TotalSeconds:0.###} s");

    public static RestartDecision GiveUp(string reason) => new(false, TimeSpan.Zero, reason);
}
