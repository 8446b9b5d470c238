namespace Bulwark.Client.Hosting;

/// <summary>
/// How a <see cref="LeaderBackgroundService"/> campaigns: which election, what it shows observers, how long its lease
/// lives. Bindable from configuration (<c>services.AddOptions&lt;LeaderElectionOptions&gt;().Bind(section)</c>).
/// </summary>
public sealed class LeaderElectionOptions
{
    /// <summary>
    /// The election's name: the key prefix (<c>{ElectionName}/</c>) under which every candidate puts its key, as etcd's
    /// concurrency package and <c>etcdctl elect</c> do. Every instance of one service uses the same name.
    /// </summary>
    public string ElectionName { get; set; } = "";

    /// <summary>
    /// What observers see as the leader's value while this instance leads, typically the URL requests for the master
    /// go to (a router reads it to forward requests).
    /// </summary>
    public string InstanceValue { get; set; } = "";

    /// <summary>
    /// TTL of the lease behind each campaign (at least 1 s). A crashed leader without release-on-disconnect keeps
    /// the leadership until this runs out; a paused or partitioned leader loses it on its own side
    /// (<see cref="Leadership.Lost"/>) before the server can expire it. Default 10 s.
    /// </summary>
    public TimeSpan SessionTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Ask the Bulwark member holding the session's keep-alive stream to revoke the lease the moment that stream ends
    /// because this process went away (crash, SIGKILL), so a backup takes over in milliseconds instead of a TTL.
    /// Default true for this recipe: a master/backup pair wants the fastest takeover after a crash, and the price
    /// (any break of the keep-alive stream, such as a Bulwark member failing, ends the leadership at once and the
    /// instance campaigns again) is a spurious, safe handover. Against etcd it is ignored (a normal TTL session).
    /// </summary>
    public bool ReleaseOnDisconnect { get; set; } = true;

    /// <summary>How long to wait before campaigning again after a failed attempt (no endpoint answers, say). Default 1 s.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Bound on the best-effort resignation when leadership ends or the host stops (the host's own stop timeout
    /// still applies). Default 5 s.
    /// </summary>
    public TimeSpan ResignTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that cannot work.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ElectionName))
        {
            throw new ArgumentException("LeaderElectionOptions.ElectionName is required (the election's key prefix)", nameof(ElectionName));
        }

        if (InstanceValue is null)
        {
            throw new ArgumentException("LeaderElectionOptions.InstanceValue must not be null", nameof(InstanceValue));
        }

        if (SessionTtl < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentException($"LeaderElectionOptions.SessionTtl must be at least 1 s (was {SessionTtl.TotalMilliseconds} ms): etcd leases count whole seconds", nameof(SessionTtl));
        }

        if (RetryDelay < TimeSpan.Zero)
        {
            throw new ArgumentException("LeaderElectionOptions.RetryDelay must not be negative", nameof(RetryDelay));
        }

        if (ResignTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("LeaderElectionOptions.ResignTimeout must be positive", nameof(ResignTimeout));
        }
    }
}
