namespace Bulwark.Client;

/// <summary>
/// Settings of a <see cref="BulwarkClient"/>: which members to talk to and how long to wait. A plain settable class so
/// it binds from configuration through <c>IOptions&lt;BulwarkClientOptions&gt;</c>.
/// </summary>
public sealed class BulwarkClientOptions
{
    /// <summary>The members' client URLs, e.g. <c>http://127.0.0.1:2379</c>; a bare <c>host:port</c> means <c>http://host:port</c>.</summary>
    public List<string> Endpoints { get; set; } = [];

    /// <summary>Deadline of every unary call attempt (default 5 s).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long to wait for a TCP connection to a member before trying another (default 2 s).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How many sweeps over the endpoint list a retryable call makes before it gives up (default 3): each sweep tries
    /// every healthy endpoint once, so a 3-member cluster gets up to 9 attempts.
    /// </summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>
    /// How often every endpoint is probed with a cheap Maintenance.Status to learn which ones answer and which member
    /// leads (default 1 s).
    /// </summary>
    public TimeSpan HealthProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// For https endpoints: the CA certificates a member's certificate must chain to (etcdctl's --cacert); the member's
    /// certificate must also name the host dialled. Null or empty trusts the system's roots.
    /// </summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2Collection? TrustedCa { get; set; }

    /// <summary>For https endpoints: the certificate, with its private key, presented to members that require one
    /// (--client-cert-auth; etcdctl's --cert/--key). Load a PEM pair with X509Certificate2.CreateFromPemFile.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> with a clear message when a setting cannot work.</summary>
    internal void Validate()
    {
        if (Endpoints is null || Endpoints.Count == 0)
        {
            throw new ArgumentException("BulwarkClientOptions.Endpoints: at least one endpoint is required (e.g. http://127.0.0.1:2379)", nameof(Endpoints));
        }

        foreach (var endpoint in Endpoints)
        {
            _ = EndpointAddress.Parse(endpoint);
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"BulwarkClientOptions.RequestTimeout must be positive (was {RequestTimeout})", nameof(RequestTimeout));
        }

        if (ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"BulwarkClientOptions.ConnectTimeout must be positive (was {ConnectTimeout})", nameof(ConnectTimeout));
        }

        if (MaxAttempts < 1)
        {
            throw new ArgumentException($"BulwarkClientOptions.MaxAttempts must be at least 1 (was {MaxAttempts})", nameof(MaxAttempts));
        }

        if (HealthProbeInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"BulwarkClientOptions.HealthProbeInterval must be positive (was {HealthProbeInterval})", nameof(HealthProbeInterval));
        }
    }
}
