using System.Collections.Immutable;
using System.Text.Json;
using Bulwark.Consensus;

namespace Bulwark.Server.Hosting;

/// <summary>
/// Who is in the cluster and how to reach them. Written only by the node loop (from the initial cluster, snapshots,
/// configuration-change entries and member-attribute entries); read by API threads through an immutable view.
/// </summary>
public sealed class MemberTable
{
    private ImmutableSortedDictionary<ulong, ClusterMember> members;

    public MemberTable(IEnumerable<ClusterMember> initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        members = initial.ToImmutableSortedDictionary(m => m.Id, m => m);
    }

    /// <summary>The members in id order.</summary>
    public IReadOnlyList<ClusterMember> All => Volatile.Read(ref members).Values.ToList();

    public ClusterMember? Find(ulong id) => Volatile.Read(ref members).GetValueOrDefault(id);

    /// <summary>Records a member's published client URLs (and name).</summary>
    public void SetAttributes(MemberAttributes attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        var current = Volatile.Read(ref members);
        var existing = current.GetValueOrDefault(attributes.Id);
        var updated = existing is null
            ? new ClusterMember(attributes.Id, attributes.Name, [], attributes.ClientUrls)
            : existing with { Name = attributes.Name, ClientUrls = attributes.ClientUrls };
        Volatile.Write(ref members, current.SetItem(attributes.Id, updated));
    }

    /// <summary>Applies a committed membership change; the change's context carries "name\npeerUrl" for additions.</summary>
    public ClusterMember? Apply(ConfigChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var current = Volatile.Read(ref members);
        if (change.Type == ConfigChangeType.RemoveVoter)
        {
            Volatile.Write(ref members, current.Remove(change.NodeId));
            return null;
        }

        var (name, peerUrl) = ParseContext(change.Context.Span);
        var existing = current.GetValueOrDefault(change.NodeId);
        var member = existing is null
            ? new ClusterMember(change.NodeId, name ?? $"{change.NodeId:x}", peerUrl is null ? [] : [peerUrl], [])
            : existing with
            {
                Name = name ?? existing.Name,
                PeerUrls = peerUrl is null ? existing.PeerUrls : [peerUrl],
            };
        Volatile.Write(ref members, current.SetItem(change.NodeId, member));
        return member;
    }

    /// <summary>Replaces the whole table (snapshot install).</summary>
    public void Replace(IEnumerable<ClusterMember> all) =>
        Volatile.Write(ref members, all.ToImmutableSortedDictionary(m => m.Id, m => m));

    /// <summary>Builds the context a membership change carries so every node learns the new member's name and peer URL.</summary>
    public static byte[] EncodeContext(string name, string peerUrl) => System.Text.Encoding.UTF8.GetBytes(name + "\n" + peerUrl);

    private static (string? Name, string? PeerUrl) ParseContext(ReadOnlySpan<byte> context)
    {
        if (context.IsEmpty)
        {
            return (null, null);
        }

        var text = System.Text.Encoding.UTF8.GetString(context);
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? (text, null) : (text[..newline], text[(newline + 1)..]);
    }

    internal byte[] Serialize() => JsonSerializer.SerializeToUtf8Bytes(All.Select(m => new MemberRecord(m.Id, m.Name, [.. m.PeerUrls], [.. m.ClientUrls])).ToList());

    internal static IReadOnlyList<ClusterMember> Deserialize(ReadOnlySpan<byte> json)
    {
        var records = JsonSerializer.Deserialize<List<MemberRecord>>(json)
            ?? throw new InvalidDataException("the snapshot's member table is empty JSON");
        return records.Select(r => new ClusterMember(r.Id, r.Name, r.PeerUrls, r.ClientUrls)).ToList();
    }

    private sealed record MemberRecord(ulong Id, string Name, string[] PeerUrls, string[] ClientUrls);
}
