namespace Bulwark.Client;

/// <summary>How a <see cref="Session"/> keeps its lease.</summary>
public sealed class SessionOptions
{
    /// <summary>The lease's time to live (default 10 s, at least 1 s; whole seconds on the wire, rounded up).</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the lease is renewed (default <see cref="Ttl"/> / 3).</summary>
    public TimeSpan? KeepAliveInterval { get; set; }

    /// <summary>
    /// How long before the lease could expire the session already counts as lost (default <see cref="Ttl"/> / 3): the
    /// holder stops acting while the lease still exists, so a pause or a slow clock does not let it act past expiry.
    /// </summary>
    public TimeSpan? SafetyMargin { get; set; }

    /// <summary>
    /// Bulwark extension (default false): keep the lease alive on one stream whose metadata asks the member to revoke
    /// the lease as soon as that stream ends because the client went away, so a crashed holder is replaced in
    /// milliseconds instead of a TTL. The price: any break of that stream makes the session <see cref="Session.Lost"/>
    /// at once. etcd ignores the request (the session then behaves as a normal TTL session).
    /// </summary>
    public bool ReleaseOnDisconnect { get; set; }

    internal TimeSpan EffectiveKeepAliveInterval => KeepAliveInterval ?? Ttl / 3;

    internal TimeSpan EffectiveSafetyMargin => SafetyMargin ?? Ttl / 3;

    /// <summary>Throws <see cref="ArgumentException"/> with a clear message when the settings cannot keep a lease.</summary>
    internal void Validate()
    {
        _ = BulwarkClient.LeaseSeconds(Ttl, nameof(Ttl));
        if (EffectiveKeepAliveInterval <= TimeSpan.Zero || EffectiveKeepAliveInterval >= Ttl)
        {
            throw new ArgumentException($"SessionOptions.KeepAliveInterval must be positive and below the TTL {Ttl} (was {EffectiveKeepAliveInterval})", nameof(KeepAliveInterval));
        }

        if (EffectiveSafetyMargin < TimeSpan.Zero || EffectiveSafetyMargin >= Ttl)
        {
            throw new ArgumentException($"SessionOptions.SafetyMargin must be at least 0 and below the TTL {Ttl} (was {EffectiveSafetyMargin})", nameof(SafetyMargin));
        }
    }
}
