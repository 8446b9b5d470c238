using System.Net;
using Bulwark.Server.Api;
using Bulwark.Server.Api.Http2;
using Bulwark.Server.Hosting;
using Bulwark.Server.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server;

/// <summary>
/// The client-facing server: the etcd v3 gRPC services (KV, Maintenance.Status, Cluster.MemberList) on Kestrel,
/// HTTP/2 cleartext (h2c, prior knowledge) on each http client URL and HTTP/2 over TLS (ALPN) on each https one, in front
/// of one <see cref="NodeHost"/>; the same port also answers etcd's HTTP/1.1 /metrics, /health and /version.
/// </summary>
public static class ServerHost
{
    /// <summary>gRPC framing allowance on top of the request limit, so our own "request is too large" is what clients see.</summary>
    public const int GrpcOverheadBytes = 512 * 1024;

    private const string KestrelCategory = "Microsoft.AspNetCore.Server.Kestrel";

    /// <summary>Builds (does not start) the web application serving the started <paramref name="node"/> on <paramref name="listenClientUrls"/>.</summary>
    /// <param name="tls">The client listener's TLS (--cert-file and friends), served on the https URLs; members also use it
    /// to call each other's https client URLs. Required when a URL is https.</param>
    public static WebApplication Build(NodeHost node, IReadOnlyList<string> listenClientUrls, Action<ILoggingBuilder>? configureLogging = null,
        Security.TlsCredentials? tls = null) =>
        Build(NodeSlot.Of(node), listenClientUrls, configureLogging, tls);

    /// <summary>
    /// Builds (does not start) the web application serving the node in <paramref name="slot"/>, which may still be
    /// starting: until it is filled, gRPC calls are answered Unavailable "catching up" and /health "node not started"
    /// (`bulwark serve` starts this before opening storage; see <see cref="NodeSlot"/>).
    /// </summary>
    public static WebApplication Build(NodeSlot slot, IReadOnlyList<string> listenClientUrls, Action<ILoggingBuilder>? configureLogging = null,
        Security.TlsCredentials? tls = null)
    {
        ArgumentNullException.ThrowIfNull(slot);
        ArgumentNullException.ThrowIfNull(listenClientUrls);
        if (listenClientUrls.Count == 0)
        {
            throw new ArgumentException("at least one client URL to listen on is required", nameof(listenClientUrls));
        }

        var builder = WebApplication.CreateSlimBuilder(EmbeddedHostOptions());
        builder.Logging.ClearProviders();
        configureLogging?.Invoke(builder.Logging);
        // Kestrel warns at start that HTTP/1.1-and-HTTP/2 without TLS means HTTP/1.1 only: not so here
        // (PriorKnowledgeProtocolSelection picks h2c per connection). Kestrel's errors still show.
        builder.Logging.AddFilter(KestrelCategory, LogLevel.Error);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // h2c clients send ":scheme http" on connections Kestrel believes ALPN-negotiated (see PriorKnowledgeProtocolSelection).
            kestrel.AllowAlternateSchemes = true;
            // No HTTP/2 keep-alive pings from the server (Kestrel's default, made explicit): a keep-alive stream bound
            // with bulwark-lease-release-on-disconnect must end only by the client's doing, never because the server
            // gave up on a silent peer (in a partition the lease runs to its TTL instead; see ReleaseOnDisconnect).
            kestrel.Limits.Http2.KeepAlivePingDelay = TimeSpan.MaxValue;
            foreach (var url in listenClientUrls)
            {
                var endpoint = EndpointOf(url);
                if (IsHttps(url))
                {
                    var credentials = tls ?? throw new ArgumentException($"client URL {url} is https but no certificate was given", nameof(tls));
                    kestrel.Listen(endpoint, listen =>
                    {
                        // With TLS, ALPN picks HTTP/2 or HTTP/1.1 per connection; the :authority shim still applies
                        // (etcdctl 3.4 sends "https://host:port" as the authority), behind the TLS layer.
                        listen.Protocols = HttpProtocols.Http1AndHttp2;
                        listen.UseHttps(credentials.KestrelOptions());
                        listen.UseUrlAuthorityCompatibility();
                    });
                }
                else
                {
                    // Protocol selection first: the shim sees the connection's bytes only after it (and passes HTTP/1.1 through).
                    kestrel.Listen(endpoint, listen => listen.UseHttp1AndPriorKnowledgeH2c().UseUrlAuthorityCompatibility());
                }
            }
        });
        builder.Services.AddSingleton(slot);
        // Every service gets the started node from the slot, and no service is created (the call is refused) before.
        builder.Services.AddSingleton(typeof(Grpc.AspNetCore.Server.IGrpcServiceActivator<>), typeof(StartedNodeServiceActivator<>));
        // Only the services above resolve these, so only once the node has started.
        builder.Services.AddSingleton(_ => new Api.Watches.WatchSyncLoop(Started(slot).Watches));
        builder.Services.AddSingleton(_ => new Api.Watches.LeaderlessStreams(Started(slot)));
        builder.Services.AddSingleton(_ => new Api.Leases.LeaderChannels(tls));
        builder.Services.AddSingleton<Api.Auth.LoginThrottle>();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = slot.Options.Limits.MaxRequestBytes + GrpcOverheadBytes;
            grpc.MaxSendMessageSize = null;
            grpc.EnableDetailedErrors = false;
            grpc.Interceptors.Add<Observability.GrpcMetricsInterceptor>();
        });

        var app = builder.Build();
        app.MapGrpcService<KvService>();
        app.MapGrpcService<MaintenanceService>();
        app.MapGrpcService<ClusterService>();
        app.MapGrpcService<Api.Watches.WatchService>();
        app.MapGrpcService<Api.Leases.LeaseService>();
        app.MapGrpcService<AuthService>(); // etcdserverpb.Auth: users, roles, logins
        app.MapGrpcService<Api.Concurrency.LockService>(); // v3lockpb.Lock
        app.MapGrpcService<Api.Concurrency.ElectionService>(); // v3electionpb.Election
        app.MapGrpcService<NodeService>(); // bulwark.v1.Node: the peer view behind `bulwark status`

        // etcd answers these next to gRPC on the client port too (HTTP/1.1 on the same port).
        Admin.EtcdHttpEndpoints.MapHealth(app, slot);
        Admin.EtcdHttpEndpoints.MapVersion(app);
        if (slot.Options.Observer is Observability.NodeObservability observability)
        {
            Admin.EtcdHttpEndpoints.MapMetrics(app, observability);
            PreRegisterGrpcMethods(app, observability.Metrics);
        }

        return app;
    }

    private static NodeHost Started(NodeSlot slot) =>
        slot.Node ?? throw new InvalidOperationException("the node is not started yet; services that need it are refused until it is");

    /// <summary>Creates every served gRPC method's series at zero, as go-grpc-prometheus does for a registered server.</summary>
    private static void PreRegisterGrpcMethods(WebApplication app, Observability.NodeMetrics metrics)
    {
        var methods = ((IEndpointRouteBuilder)app).DataSources.SelectMany(source => source.Endpoints)
            .Select(endpoint => endpoint.Metadata.GetMetadata<Grpc.AspNetCore.Server.GrpcMethodMetadata>()?.Method)
            .OfType<Grpc.Core.IMethod>()
            .Where(method => method.ServiceName.Length > 0 && method.Name.Length > 0 && method.Name != "*");
        foreach (var method in methods)
        {
            metrics.GrpcMethod(method.ServiceName, method.Name, Observability.GrpcTypes.Of(method.Type));
        }
    }

    /// <summary>Parses "http(s)://host:port" (or "host:port"); "localhost" means loopback, a host name means all interfaces.</summary>
    public static IPEndPoint EndpointOf(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (EndpointSyntax.TryParse(url, Uri.UriSchemeHttp) is not { } uri || uri.Port <= 0)
        {
            throw new FormatException($"client URL '{url}' is not http://host:port");
        }

        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            throw new FormatException($"client URL '{url}' uses {uri.Scheme}; only http (h2c) and https are supported");
        }

        return EndpointSyntax.ListenEndpoint(EndpointSyntax.HostOf(uri), uri.Port);
    }

    private static bool IsHttps(string url) => url.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Options for the ASP.NET Core hosts a node embeds: the content root is the program's own folder and configuration
    /// files are not watched. The defaults watch the working directory recursively for appsettings changes; a node
    /// started in a busy folder (or under systemd, in /) then wakes on every WAL write (found profiling bench/).
    /// </summary>
    internal static WebApplicationOptions EmbeddedHostOptions() => new()
    {
        ContentRootPath = AppContext.BaseDirectory,
        Args = ["--hostBuilder:reloadConfigOnChange=false"],
    };
}
