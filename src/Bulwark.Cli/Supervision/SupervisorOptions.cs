namespace Bulwark.Cli.Supervision;

/// <summary>Settings of a <see cref="ClusterSupervisor"/>.</summary>
public sealed record SupervisorOptions
{
    public RestartPolicyOptions Restart { get; init; } = new();

    /// <summary>After SIGTERM, how long a child may take to stop before it is killed.</summary>
    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(10);
}
