using System.Globalization;
using System.Text.Json;
using Bulwark.Consensus;
using Bulwark.Server.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Admin;

/// <summary>
/// The admin HTTP/1.1 listener (etcd's --listen-metrics-urls): /metrics (Prometheus), /version, /livez, /readyz, /health,
/// /health/leader, /health/replica?lag=N (GET, HEAD and OPTIONS), /status.json, the status page at /, /debug/faults (<see cref="FaultEndpoints"/>) and /debug/put-stages (<see cref="PutStageTrace"/>). Separate from the gRPC endpoint so a
/// load balancer or Prometheus never competes with clients, and so it keeps answering while the API is busy.
/// </summary>
public static class AdminServer
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Builds (does not start) the admin listener on <paramref name="url"/> for an attached <paramref name="observability"/>.</summary>
    /// <param name="faults">The member's fault injection (--unsafe-fault-injection), or null: /debug/faults then refuses.</param>
    /// <param name="clientTls">The member's client TLS, with which the status page asks the other members (https client URLs).</param>
    public static WebApplication Build(NodeObservability observability, string url, Action<ILoggingBuilder>? configureLogging = null,
        Faults.FaultInjection? faults = null, Security.TlsCredentials? clientTls = null)
    {
        ArgumentNullException.ThrowIfNull(observability);
        ArgumentException.ThrowIfNullOrWhiteSpace(url);
        var builder = WebApplication.CreateSlimBuilder(ServerHost.EmbeddedHostOptions());
        builder.Logging.ClearProviders();
        configureLogging?.Invoke(builder.Logging);
        var endpoint = ServerHost.EndpointOf(url);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(endpoint, listen => listen.Protocols = HttpProtocols.Http1));
        builder.Services.AddSingleton(new MemberStatusProbe(clientTls));
        var app = builder.Build();

        EtcdHttpEndpoints.MapMetrics(app, observability);
        EtcdHttpEndpoints.MapVersion(app);
        FaultEndpoints.Map(app, faults);
        // Load balancers probe with whatever method they default to (HAProxy's httpchk sends OPTIONS, others HEAD), so
        // every health path answers GET, HEAD and OPTIONS with the same status; Kestrel sends no body for HEAD.
        MapHealth(app, "/livez", () => Plain(HealthCheck.Live(observability.Node is { } node ? !node.Completion.IsCompleted : null)));
        MapHealth(app, "/readyz", () => Plain(HealthCheck.Ready(observability.Node?.Status)));
        MapHealth(app, "/health", () => EtcdJson(HealthCheck.Etcd(observability.Node?.Status)));
        MapHealth(app, "/health/leader", () => EtcdJson(HealthCheck.Leader(observability.Node?.Status)));
        MapHealth(app, "/health/replica", (HttpRequest request) =>
        {
            if (!HealthCheck.TryParseLag(request.Query["lag"], out var lag, out var error))
            {
                return Results.Json(new { health = "false", reason = error }, statusCode: 400);
            }

            return EtcdJson(HealthCheck.Replica(observability.Node?.Status, lag));
        });
        // This listener is plain HTTP even when the client and peer ports use TLS (as etcd's --listen-metrics-urls), so
        // the status page, which shows the cluster's members, URLs and state, answers loopback callers only; metrics and
        // health stay open to monitoring on any address.
        // Issue 17's breakdown of a put (BULWARK_TRACE_PUT_STAGES=1; the process counters answer either way), loopback only.
        app.MapGet("/debug/put-stages", (HttpContext http) => IsLoopback(http)
            ? Results.Text(PutStageTrace.Report().ToMarkdown(), "text/plain; charset=utf-8")
            : LoopbackOnly());
        app.MapPost("/debug/put-stages/reset", (HttpContext http) =>
        {
            if (!IsLoopback(http))
            {
                return LoopbackOnly();
            }

            PutStageTrace.Reset();
            return Results.Text("reset\n", "text/plain; charset=utf-8");
        });
        app.MapGet("/status.json", async (HttpContext http, MemberStatusProbe probe, CancellationToken cancel) => IsLoopback(http)
            ? Results.Json(await StatusDocument.BuildAsync(observability, probe, cancel).ConfigureAwait(false), Json)
            : LoopbackOnly());
        app.MapGet("/", async (HttpContext http, MemberStatusProbe probe, CancellationToken cancel) => !IsLoopback(http)
            ? LoopbackOnly()
            : observability.Node is null
                ? Results.Content(StatusPage.Starting(observability.Name), "text/html; charset=utf-8", statusCode: 503)
                : Results.Content(StatusPage.Render(await StatusDocument.BuildAsync(observability, probe, cancel).ConfigureAwait(false)), "text/html; charset=utf-8"));
        return app;
    }

    /// <summary>The HTTP methods every health path answers.</summary>
    public static readonly IReadOnlyList<string> HealthMethods = [HttpMethods.Get, HttpMethods.Head, HttpMethods.Options];

    private static void MapHealth(WebApplication app, string path, Delegate handler) => app.MapMethods(path, HealthMethods, handler);

    private static bool IsLoopback(HttpContext http) => http.Connection.RemoteIpAddress is { } remote && System.Net.IPAddress.IsLoopback(remote);

    private static IResult LoopbackOnly() =>
        Results.Text("the status page answers loopback callers only (the metrics listener has no TLS)\n", "text/plain; charset=utf-8", statusCode: 403);

    private static IResult Plain(HealthResult result) =>
        Results.Text(result.Healthy ? "ok\n" : result.Reason + "\n", "text/plain; charset=utf-8", statusCode: result.StatusCode);

    private static IResult EtcdJson(HealthResult result) =>
        Results.Json(new { health = result.Healthy ? "true" : "false", reason = result.Reason }, statusCode: result.StatusCode);

    internal static string Hex(ulong id) => id.ToString("x", CultureInfo.InvariantCulture);

    internal static string RoleName(Role role) => role.ToString().ToUpperInvariant();
}
