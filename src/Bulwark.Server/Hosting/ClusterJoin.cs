using System.Text.Json;
using Bulwark.Server.Transport;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Hosting;

/// <summary>
/// What a member that joined a running cluster (`serve --initial-cluster-state existing`) learned when it joined, kept in
/// <c>&lt;data-dir&gt;/member.json</c> so a restart is an ordinary restart: its id (given by MemberAdd, which carries no
/// name), the cluster's id, the voters the cluster was founded with (its log starts from that membership at index 0) and
/// the members at the time (whom to dial first; the log and snapshots bring the rest).
/// </summary>
public sealed record JoinedIdentity(ulong MemberId, ulong ClusterId, ulong[] FoundingVoters, JoinedIdentity.Member[] Members)
{
    public sealed record Member(ulong Id, string Name, bool IsLearner, string[] PeerUrls, string[] ClientUrls);

    /// <summary>The members as the host's initial cluster, this member named <paramref name="selfName"/>.</summary>
    public IReadOnlyList<ClusterMember> InitialCluster(string selfName) => Members
        .Select(m => new ClusterMember(m.Id, m.Id == MemberId ? selfName : m.Name, m.PeerUrls, m.ClientUrls) { IsLearner = m.IsLearner })
        .ToList();
}

/// <summary>
/// Joining a running cluster, as etcd's joiner does it: ask the members named in --initial-cluster (over their peer URLs,
/// with a <see cref="MemberQueryFrame"/>) who is in the cluster, and take the member whose peer URL is this member's own
/// (added beforehand with `etcdctl member add NAME --peer-urls=URL`) as this member's identity. See docs/operations.md.
/// </summary>
public static class ClusterJoin
{
    public const string FileName = "member.json";

    /// <summary>How long to keep asking before giving up (a member may be electing a leader).</summary>
    public static readonly TimeSpan DefaultPatience = TimeSpan.FromSeconds(30);

    public static string PathIn(string dataDir) => Path.Combine(dataDir, FileName);

    /// <summary>The identity saved when this data dir joined a cluster, or null (a founding member, or nothing yet).</summary>
    /// <exception cref="InvalidDataException">The file is damaged.</exception>
    public static JoinedIdentity? Load(string dataDir)
    {
        var path = PathIn(dataDir);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<JoinedIdentity>(File.ReadAllBytes(path)) is { MemberId: not 0, ClusterId: not 0 } identity
                ? identity
                : throw new InvalidDataException($"{path} names no member or cluster id");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid: {e.Message}", e);
        }
    }

    /// <summary>Writes the identity durably (temporary file, fsync, rename, directory fsync) before the node starts.</summary>
    public static void Save(string dataDir, JoinedIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        Directory.CreateDirectory(dataDir);
        var path = PathIn(dataDir);
        var temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(JsonSerializer.SerializeToUtf8Bytes(identity, new JsonSerializerOptions { WriteIndented = true }));
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        Bulwark.Storage.FileSystem.RealFileSystem.Instance.SyncDirectory(Path.GetFullPath(dataDir));
    }

    /// <summary>True when the data dir already holds a log or snapshots (then the node restarts; it does not join).</summary>
    public static bool HoldsState(string dataDir) =>
        new[] { "wal", "snap" }.Select(d => Path.Combine(dataDir, d)).Any(d => Directory.Exists(d) && Directory.EnumerateFiles(d).Any());

    /// <summary>
    /// Asks the members at <paramref name="peerUrls"/> (each in turn, again until <paramref name="patience"/> runs out)
    /// who is in the cluster, and finds this member, added beforehand, by its peer URL.
    /// </summary>
    /// <exception cref="InvalidOperationException">No member answered in time, or none is at <paramref name="selfPeerUrl"/>
    /// (it was not added, or was added with another URL): the message says which and what to do.</exception>
    /// <param name="tls">Peer TLS, when the peer port speaks it (null: plain TCP).</param>
    public static async Task<JoinedIdentity> DiscoverAsync(string selfPeerUrl, IReadOnlyList<string> peerUrls, TimeSpan patience, ILogger logger,
        CancellationToken cancellationToken = default, Security.TlsCredentials? tls = null)
    {
        ArgumentNullException.ThrowIfNull(selfPeerUrl);
        ArgumentNullException.ThrowIfNull(peerUrls);
        ArgumentNullException.ThrowIfNull(logger);
        var others = peerUrls.Where(u => !SameUrl(u, selfPeerUrl)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (others.Count == 0)
        {
            throw new InvalidOperationException(
                $"--initial-cluster names no member other than this one ({selfPeerUrl}); a member that joins (--initial-cluster-state existing) asks the running members listed there");
        }

        var deadline = DateTime.UtcNow + patience;
        var failures = new List<string>();
        while (true)
        {
            failures.Clear();
            foreach (var url in others)
            {
                MemberQueryReplyFrame reply;
                try
                {
                    reply = await MemberQueryClient.AskAsync(url, selfPeerUrl, TimeSpan.FromSeconds(3), cancellationToken, tls).ConfigureAwait(false);
                }
                catch (IOException e)
                {
                    failures.Add(e.Message);
                    continue;
                }

                var self = reply.Members.FirstOrDefault(m => m.PeerUrls.Any(u => SameUrl(u, selfPeerUrl)))
                    ?? throw new InvalidOperationException(
                        $"no member of cluster {reply.ClusterId:x} (asked {url}) has peer URL {selfPeerUrl}: add this member first " +
                        $"(etcdctl member add NAME --peer-urls={selfPeerUrl} [--learner]), then start it with --initial-cluster-state existing");
                JoinLog.Joining(logger, self.Id, reply.ClusterId, url, reply.Members.Count);
                return new JoinedIdentity(self.Id, reply.ClusterId, [.. reply.FoundingVoters],
                    [.. reply.Members.Select(m => new JoinedIdentity.Member(m.Id, m.Name, m.IsLearner, [.. m.PeerUrls], [.. m.ClientUrls]))]);
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new InvalidOperationException($"could not fetch the cluster's members from {string.Join(", ", others)}: {string.Join("; ", failures)}");
            }

            JoinLog.Retrying(logger, string.Join("; ", failures));
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool SameUrl(string a, string b) => string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
}

internal static partial class JoinLog
{
    [LoggerMessage(EventId = 1044, Level = LogLevel.Information, Message = "joining cluster {ClusterId:x} as member {MemberId:x} (asked {PeerUrl}: {Members} members)")]
    public static partial void Joining(ILogger logger, ulong memberId, ulong clusterId, string peerUrl, int members);

    [LoggerMessage(EventId = 1045, Level = LogLevel.Warning, Message = "no member answered the join query yet; retrying: {Failures}")]
    public static partial void Retrying(ILogger logger, string failures);
}
