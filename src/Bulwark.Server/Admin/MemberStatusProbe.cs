using System.Collections.Concurrent;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.V1;
using Bulwark.Server.Hosting;
using Grpc.Core;
using Grpc.Net.Client;

namespace Bulwark.Server.Admin;

/// <summary>
/// Asks the other members for their Status over their published client URLs, so this node's status page can show the
/// whole cluster without the browser loading anything from another origin, and for their vital signs
/// (bulwark.v1.Node.Vitals: uptime, restarts, alarms, store, put latency). Answers are cached for a second.
/// </summary>
public sealed class MemberStatusProbe(Security.TlsCredentials? tls = null) : IDisposable
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Deadline = TimeSpan.FromMilliseconds(700);
    private readonly ConcurrentDictionary<string, GrpcChannel> channels = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim refreshing = new(1, 1);
    private IReadOnlyDictionary<ulong, MemberAnswer?> cached = new Dictionary<ulong, MemberAnswer?>();
    private DateTime cachedAt = DateTime.MinValue;

    /// <summary>Each member's answer (null when it did not answer in time or publishes no client URL).</summary>
    public async Task<IReadOnlyDictionary<ulong, MemberAnswer?>> ProbeAsync(IReadOnlyList<ClusterMember> members, ulong selfId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (DateTime.UtcNow - cachedAt < CacheFor)
        {
            return cached;
        }

        await refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (DateTime.UtcNow - cachedAt < CacheFor)
            {
                return cached;
            }

            var others = members.Where(m => m.Id != selfId).ToList();
            var answers = await Task.WhenAll(others.Select(m => AskAsync(m, cancellationToken))).ConfigureAwait(false);
            cached = others.Zip(answers).ToDictionary(p => p.First.Id, p => p.Second);
            cachedAt = DateTime.UtcNow;
            return cached;
        }
        finally
        {
            refreshing.Release();
        }
    }

    private async Task<MemberAnswer?> AskAsync(ClusterMember member, CancellationToken cancellationToken)
    {
        foreach (var url in member.ClientUrls)
        {
            try
            {
                var channel = channels.GetOrAdd(url, u => Security.MemberChannels.Create(u, tls));
                var deadline = DateTime.UtcNow + Deadline;
                var vitals = AskVitalsAsync(channel, deadline, cancellationToken);
                var status = await new Maintenance.MaintenanceClient(channel).StatusAsync(new StatusRequest(), deadline: deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
                return new MemberAnswer(status, await vitals.ConfigureAwait(false));
            }
            catch (Exception e) when (e is RpcException or HttpRequestException or UriFormatException or InvalidOperationException)
            {
                // try the member's next URL; no answer at all shows as unreachable
            }
        }

        return null;
    }

    /// <summary>Vital signs are extra: a member that answers Status but not Vitals (not a Bulwark member, or one without
    /// observability) is still reachable, just shown without them.</summary>
    private static async Task<VitalsResponse?> AskVitalsAsync(GrpcChannel channel, DateTime deadline, CancellationToken cancellationToken)
    {
        try
        {
            return await new Node.NodeClient(channel).VitalsAsync(new VitalsRequest(), deadline: deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or InvalidOperationException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        foreach (var channel in channels.Values)
        {
            channel.Dispose();
        }

        refreshing.Dispose();
    }
}

/// <summary>A member's Status answer and, when it gave them, its vital signs.</summary>
public sealed record MemberAnswer(StatusResponse Status, VitalsResponse? Vitals);
