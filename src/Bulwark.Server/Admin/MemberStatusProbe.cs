using System.Collections.Concurrent;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Hosting;
using Grpc.Core;
using Grpc.Net.Client;

namespace Bulwark.Server.Admin;

/// <summary>
/// Asks the other members for their Status over their published client URLs, so this node's status page can show the
/// whole cluster without the browser loading anything from another origin. Answers are cached for a second.
/// </summary>
public sealed class MemberStatusProbe : IDisposable
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Deadline = TimeSpan.FromMilliseconds(700);
    private readonly ConcurrentDictionary<string, GrpcChannel> channels = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim refreshing = new(1, 1);
    private IReadOnlyDictionary<ulong, StatusResponse?> cached = new Dictionary<ulong, StatusResponse?>();
    private DateTime cachedAt = DateTime.MinValue;

    /// <summary>Each member's answer (null when it did not answer in time or publishes no client URL).</summary>
    public async Task<IReadOnlyDictionary<ulong, StatusResponse?>> ProbeAsync(IReadOnlyList<ClusterMember> members, ulong selfId, CancellationToken cancellationToken)
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

    private async Task<StatusResponse?> AskAsync(ClusterMember member, CancellationToken cancellationToken)
    {
        foreach (var url in member.ClientUrls)
        {
            try
            {
                var channel = channels.GetOrAdd(url, u => GrpcChannel.ForAddress(u.Contains("://", StringComparison.Ordinal) ? u : "http://" + u));
                var client = new Maintenance.MaintenanceClient(channel);
                return await client.StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow + Deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RpcException or HttpRequestException or UriFormatException or InvalidOperationException)
            {
                // try the member's next URL; no answer at all shows as unreachable
            }
        }

        return null;
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
