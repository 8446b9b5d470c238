using Bulwark.Server.Api;
using Bulwark.Server.Hosting;
using Bulwark.Server.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Bulwark.Server.Admin;

/// <summary>
/// The plain HTTP endpoints etcd answers on its client port as well as on its metrics listener: /metrics (Prometheus
/// text, through prometheus-net), /health and /version. Shared by <see cref="AdminServer"/> and the client port
/// (<see cref="ServerHost"/>), so tools such as `etcdctl check datascale` that scrape the client endpoint work.
/// </summary>
public static class EtcdHttpEndpoints
{
    public const string MetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>/metrics: this node's registry, sampled at the request.</summary>
    public static void MapMetrics(IEndpointRouteBuilder routes, NodeObservability observability)
    {
        ArgumentNullException.ThrowIfNull(routes);
        ArgumentNullException.ThrowIfNull(observability);
        routes.MapGet("/metrics", async (HttpContext http) =>
        {
            http.Response.ContentType = MetricsContentType;
            await observability.ScrapeMetricsAsync(http.Response.Body, http.RequestAborted).ConfigureAwait(false);
        });
    }

    /// <summary>/version as etcd answers it: {"etcdserver":"3.5.0","etcdcluster":"3.5.0"}.</summary>
    public static void MapVersion(IEndpointRouteBuilder routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        routes.MapGet("/version", () => Results.Json(new Dictionary<string, string>
        {
            ["etcdserver"] = MaintenanceService.ApiVersion,
            ["etcdcluster"] = MaintenanceService.ApiVersion,
        }));
    }

    /// <summary>/health as etcd answers it on the client port (the metrics listener has the full set, see <see cref="AdminServer"/>);
    /// "node not started" while the node in <paramref name="slot"/> is starting.</summary>
    public static void MapHealth(IEndpointRouteBuilder routes, NodeSlot slot)
    {
        ArgumentNullException.ThrowIfNull(routes);
        ArgumentNullException.ThrowIfNull(slot);
        // GET, HEAD and OPTIONS, as on the admin listener: load balancers probe with whatever method they default to.
        routes.MapMethods("/health", ["GET", "HEAD", "OPTIONS"], () =>
        {
            var result = HealthCheck.Etcd(slot.Node?.Status);
            return Results.Json(new { health = result.Healthy ? "true" : "false", reason = result.Reason }, statusCode: result.StatusCode);
        });
    }
}
