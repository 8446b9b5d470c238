using System.Text;

namespace Bulwark.Server.Hosting;

/// <summary>One member as the cluster knows it: its Raft id, name, where peers reach it and where clients reach it.</summary>
public sealed record ClusterMember(ulong Id, string Name, IReadOnlyList<string> PeerUrls, IReadOnlyList<string> ClientUrls)
{
    /// <summary>A learner receives the log but does not vote (etcd's is_learner).</summary>
    public bool IsLearner { get; init; }

    /// <summary>etcd's "started": the member published its name through the log (founding members are named by the
    /// initial cluster). A member added by MemberAdd has no name until its process joins.</summary>
    public bool IsStarted => Name.Length > 0;

    /// <summary>
    /// A member id derived from the member's name (FNV-1a 64), so every node computes the same ids from the same
    /// initial-cluster list without coordination. Never zero.
    /// </summary>
    public static ulong IdFromName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var hash = Fnv1a(Encoding.UTF8.GetBytes(name));
        return hash == 0 ? 1 : hash;
    }

    /// <summary>A cluster id every founding member computes alike: a hash over the sorted member ids.</summary>
    public static ulong ClusterIdOf(IEnumerable<ulong> memberIds)
    {
        ArgumentNullException.ThrowIfNull(memberIds);
        var bytes = new List<byte>();
        foreach (var id in memberIds.Order())
        {
            bytes.AddRange(BitConverter.GetBytes(id));
        }

        var hash = Fnv1a([.. bytes]);
        return hash == 0 ? 1 : hash;
    }

    private static ulong Fnv1a(ReadOnlySpan<byte> data)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in data)
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }

        return hash;
    }
}
