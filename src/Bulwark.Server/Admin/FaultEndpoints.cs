using System.Net;
using System.Text.Json;
using Bulwark.Server.Faults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Bulwark.Server.Admin;

/// <summary>
/// <c>GET /debug/faults</c> (the active fault points and the clock's offset) and <c>POST /debug/faults</c> with
/// <c>{"point": "...", "delayMs": N, "enabled": true|false}</c>. Answered only to callers on the member's own machine
/// (loopback, or the listener's own address: a member in a network namespace is called from inside it), and only when
/// the member runs with --unsafe-fault-injection; otherwise 404 (403 for a remote caller) and nothing changes.
/// </summary>
public static class FaultEndpoints
{
    public const string Path = "/debug/faults";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void Map(WebApplication app, FaultInjection? faults)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet(Path, (HttpContext context) => Refusal(context, faults) ?? Results.Json(faults!.Describe(), Json));
        app.MapPost(Path, async (HttpContext context) =>
        {
            if (Refusal(context, faults) is { } refused)
            {
                return refused;
            }

            FaultRequest? request;
            try
            {
                request = await JsonSerializer.DeserializeAsync<FaultRequest>(context.Request.Body, Json, context.RequestAborted).ConfigureAwait(false);
            }
            catch (JsonException e)
            {
                return Error(400, $"the body must be JSON {{\"point\": name, \"delayMs\": number, \"enabled\": bool}}: {e.Message}");
            }

            if (request is null)
            {
                return Error(400, "the body must be a JSON object");
            }

            try
            {
                faults!.Apply(request.Point, request.DelayMs, request.Enabled);
            }
            catch (ArgumentException e)
            {
                return Error(400, e.Message);
            }

            return Results.Json(faults.Describe(), Json);
        });
    }

    /// <summary>Why the call is refused, or null when it may proceed.</summary>
    private static IResult? Refusal(HttpContext context, FaultInjection? faults)
    {
        if (!IsLocal(context.Connection))
        {
            return Error(403, "fault injection answers only callers on this machine");
        }

        return faults is null ? Error(404, "fault injection is off (start the member with --unsafe-fault-injection)") : null;
    }

    private static bool IsLocal(ConnectionInfo connection) =>
        connection.RemoteIpAddress is { } remote &&
        (IPAddress.IsLoopback(remote) || remote.Equals(connection.LocalIpAddress));

    private static IResult Error(int status, string message) => Results.Json(new { error = message }, Json, statusCode: status);

    private sealed record FaultRequest(string? Point, long? DelayMs, bool? Enabled);
}
