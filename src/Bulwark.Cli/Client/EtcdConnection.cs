using Bulwark.Api.Etcdserverpb;
using Grpc.Core;
using Grpc.Net.Client;

namespace Bulwark.Cli.Client;

/// <summary>
/// gRPC channels to a cluster's client endpoints. A call goes to the first endpoint and moves on to the next when an
/// endpoint cannot be reached, so a client keeps working while a member is down. Any member serves any request
/// (followers forward writes to the leader), so which one answers does not change the result.
/// </summary>
public sealed class EtcdConnection : IDisposable
{
    private readonly GrpcChannel[] channels;

    /// <param name="tls">Trust and client certificate for https endpoints (--cacert/--cert/--key); null: the system's roots, no certificate.</param>
    public EtcdConnection(IReadOnlyList<string> endpoints, TimeSpan timeout, Bulwark.Server.Security.TlsCredentials? tls = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        Endpoints = endpoints;
        Timeout = timeout;
        Tls = tls;
        // No cap on what a member may answer (gRPC's default is 4 MB): a range of large values is legitimate, and the
        // members' own max-request-bytes already bounds every value.
        channels = endpoints.Select(e => Bulwark.Server.Security.MemberChannels.Create(e, tls)).ToArray();
    }

    public Bulwark.Server.Security.TlsCredentials? Tls { get; }

    public IReadOnlyList<string> Endpoints { get; }

    public TimeSpan Timeout { get; }

    public KV.KVClient Kv(int endpoint) => new(channels[endpoint]);

    public Maintenance.MaintenanceClient Maintenance(int endpoint) => new(channels[endpoint]);

    public Cluster.ClusterClient Cluster(int endpoint) => new(channels[endpoint]);

    /// <summary>Bulwark's own service (bulwark.v1.Node); a real etcd answers Unimplemented.</summary>
    public Bulwark.Api.V1.Node.NodeClient Node(int endpoint) => new(channels[endpoint]);

    /// <summary>Runs <paramref name="call"/> on the endpoints in turn until one is reachable; its answer (or error) is the result.</summary>
    public async Task<T> CallAsync<T>(Func<int, CallOptions, Task<T>> call, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(call);
        RpcException? last = null;
        for (var i = 0; i < channels.Length; i++)
        {
            try
            {
                return await call(i, Options(cancellation)).ConfigureAwait(false);
            }
            catch (RpcException e) when (IsUnreachable(e))
            {
                last = e;
            }
        }

        throw new RpcException(new Status(StatusCode.Unavailable, $"no endpoint answered ({string.Join(", ", Endpoints)}): {last?.Status.DebugException?.InnerException?.Message ?? last?.Status.DebugException?.Message ?? last?.Status.Detail}"));
    }

    public CallOptions Options(CancellationToken cancellation) => new(deadline: DateTime.UtcNow + Timeout, cancellationToken: cancellation);

    /// <summary>The endpoint could not be reached at all (as opposed to the cluster answering with an error).</summary>
    public static bool IsUnreachable(RpcException e) =>
        e.Status.DebugException is not null && e.StatusCode is StatusCode.Unavailable or StatusCode.Internal;

    public void Dispose()
    {
        foreach (var channel in channels)
        {
            channel.Dispose();
        }
    }
}
