namespace Bulwark.Bench.Load;

/// <summary>One load run's settings. <see cref="Validate"/> names whatever is wrong.</summary>
public sealed record LoadOptions
{
    /// <summary>gRPC endpoints (http://host:port); connections are spread over them round-robin.</summary>
    public required IReadOnlyList<string> Endpoints { get; init; }

    /// <summary>For https endpoints: the CA bundle the server's certificate must chain to (null: the system's roots).</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2Collection? TrustedCa { get; init; }

    /// <summary>For https endpoints: the client certificate to present (servers with client-cert-auth need one).</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate { get; init; }

    /// <summary>Concurrent clients; each has at most one call in flight.</summary>
    public int Clients { get; init; } = 1;

    /// <summary>HTTP/2 connections (one GrpcChannel each); clients share them round-robin.</summary>
    public int Connections { get; init; } = 1;

    public Workload Workload { get; init; } = Workload.Put;

    public ReadConsistency Consistency { get; init; } = ReadConsistency.Linearizable;

    /// <summary>Share of gets in a <see cref="Workload.Mix"/> run, 0..100.</summary>
    public int ReadPercent { get; init; } = 50;

    public int KeySize { get; init; } = 16;

    public int ValueSize { get; init; } = 256;

    /// <summary>Distinct keys the run touches; each operation picks one uniformly (seeded per client).</summary>
    public int KeySpace { get; init; } = 10_000;

    /// <summary>Key prefix, so runs and tests do not collide; the key is the prefix then a zero-padded number up to <see cref="KeySize"/>.</summary>
    public string KeyPrefix { get; init; } = "k";

    /// <summary>Stop after this long (when <see cref="TotalOps"/> is null).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Stop after this many operations in total (successful or not), if set.</summary>
    public long? TotalOps { get; init; }

    /// <summary>Open loop: issue this many operations per second in total on a fixed schedule, whatever the latency; null is closed loop.</summary>
    public double? Rate { get; init; }

    /// <summary>Write every key of the key space once before measuring (so gets find values).</summary>
    public bool Preload { get; init; }

    /// <summary>Deadline of one call.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public int Seed { get; init; } = 1;

    public void Validate()
    {
        if (Endpoints.Count == 0)
        {
            throw new ArgumentException("--endpoints: at least one endpoint is needed");
        }

        foreach (var e in Endpoints)
        {
            if (!Uri.TryCreate(e, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            {
                throw new ArgumentException($"--endpoints: '{e}' is not an http(s):// URL");
            }
        }

        Require(Clients >= 1, "--clients must be at least 1");
        Require(Connections >= 1, "--conns must be at least 1");
        Require(ReadPercent is >= 0 and <= 100, "--read-percent must be within 0..100");
        Require(ValueSize >= 0, "--val-size must not be negative");
        Require(KeySpace >= 1, "--key-space must be at least 1");
        var digits = (KeySpace - 1).ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
        Require(KeySize >= KeyPrefix.Length + digits, $"--key-size {KeySize} is too small for prefix '{KeyPrefix}' and {digits}-digit key numbers (key space {KeySpace})");
        Require(Duration > TimeSpan.Zero || TotalOps is not null, "--duration must be positive");
        Require(TotalOps is null or >= 1, "--ops must be at least 1");
        Require(Rate is null or > 0, "--rate must be positive");
        Require(CallTimeout > TimeSpan.Zero, "--timeout must be positive");
    }

    private static void Require(bool ok, string message)
    {
        if (!ok)
        {
            throw new ArgumentException(message);
        }
    }
}
