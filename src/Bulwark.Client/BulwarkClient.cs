using Bulwark.Client.Calls;
using Bulwark.Client.Endpoints;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bulwark.Client;

/// <summary>
/// A client for Bulwark and etcd v3 over a list of members: calls go to the leader (writes and linearizable reads) or
/// the last member that answered, each attempt has a deadline, and a call moves to another member after a failure only
/// when repeating it cannot apply it twice (see docs/client.md, "Failover and retries"). Thread-safe; make one per
/// application and dispose it at the end.
/// </summary>
public sealed partial class BulwarkClient : IAsyncDisposable
{
    private readonly EndpointSet endpoints;
    private readonly CallRunner calls;
    private readonly ILogger logger;
    private int disposed;

    /// <summary>Creates a client for <paramref name="options"/>' endpoints; nothing is sent until the first call.</summary>
    /// <exception cref="ArgumentException">No endpoint, an endpoint that is not a URL, or a non-positive timeout.</exception>
    public BulwarkClient(BulwarkClientOptions options, ILoggerFactory? loggerFactory = null)
        : this(options, loggerFactory, TimeProvider.System)
    {
    }

    /// <summary>Creates a client from bound options (<c>services.Configure&lt;BulwarkClientOptions&gt;(...)</c>).</summary>
    public BulwarkClient(IOptions<BulwarkClientOptions> options, ILoggerFactory? loggerFactory = null)
        : this((options ?? throw new ArgumentNullException(nameof(options))).Value, loggerFactory, TimeProvider.System)
    {
    }

    internal BulwarkClient(BulwarkClientOptions options, ILoggerFactory? loggerFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        // A copy: later changes to the caller's object do not reach a running client.
        Options = new BulwarkClientOptions
        {
            Endpoints = [.. options.Endpoints ?? throw new ArgumentException("BulwarkClientOptions.Endpoints is null: at least one endpoint is required", nameof(options))],
            RequestTimeout = options.RequestTimeout,
            ConnectTimeout = options.ConnectTimeout,
            MaxAttempts = options.MaxAttempts,
            HealthProbeInterval = options.HealthProbeInterval,
            // Were dropped here before, so https endpoints ignored the CA bundle and the client certificate given
            // (TlsClientTests found it: the client fell back to the system roots and presented no certificate).
            TrustedCa = options.TrustedCa is null ? null : [.. options.TrustedCa],
            ClientCertificate = options.ClientCertificate,
        };
        Options.Validate();
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        Time = time;
        logger = LoggerFactory.CreateLogger<BulwarkClient>();
        endpoints = new EndpointSet(Options, time, logger);
        calls = new CallRunner(endpoints, Options, time, logger);
    }

    /// <summary>A client with default options for <paramref name="endpoints"/> (e.g. "http://127.0.0.1:2379").</summary>
    /// <exception cref="ArgumentException">No endpoint, or one that is not a URL.</exception>
    public static BulwarkClient Connect(params string[] endpoints)
    {
        if (endpoints is null || endpoints.Length == 0)
        {
            throw new ArgumentException("at least one endpoint is required (e.g. http://127.0.0.1:2379)", nameof(endpoints));
        }

        return new BulwarkClient(new BulwarkClientOptions { Endpoints = [.. endpoints] });
    }

    /// <summary>The settings this client runs with (a copy of those it was given).</summary>
    public BulwarkClientOptions Options { get; }

    /// <summary>The client URLs this client talks to, normalized.</summary>
    public IReadOnlyList<string> Endpoints => endpoints.All.Select(e => e.Url.ToString()).ToArray();

    /// <summary>The endpoint the client currently believes the leader is at, or null while it does not know.</summary>
    public string? LeaderEndpoint => endpoints.Leader?.Url.ToString();

    internal ILoggerFactory LoggerFactory { get; }

    internal TimeProvider Time { get; }

    internal CallRunner Calls => calls;

    internal EndpointSet EndpointSet => endpoints;

    /// <summary>Stops the health probe and closes every connection. Open watches and sessions end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            await endpoints.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal static void RequireKey(string? key, string parameter)
    {
        if (string.IsNullOrEmpty(key))
        {
            throw new ArgumentException("the key is empty: etcd and Bulwark refuse an empty key", parameter);
        }
    }

    internal static void RequireKey(Google.Protobuf.ByteString? key, string parameter)
    {
        if (key is null || key.IsEmpty)
        {
            throw new ArgumentException("the key is empty: etcd and Bulwark refuse an empty key", parameter);
        }
    }
}
