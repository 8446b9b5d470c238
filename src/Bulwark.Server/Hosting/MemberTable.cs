using System.Collections.Immutable;
using System.Text.Json;
using Bulwark.Consensus;

namespace Bulwark.Server.Hosting;

/// <summary>
/// Who is in the cluster and how to reach them. Written only by the node loop (from the initial cluster, snapshots,
/// configuration-change entries, member-attribute and peer-URL-update entries); read by API threads through an
/// immutable view. Removed members' ids are remembered (and carried by snapshots), as etcd does: a removed id is never
/// given to a new member, and a removed member that comes back is turned away.
/// </summary>
public sealed class MemberTable
{
    private State state;

    public MemberTable(IEnumerable<ClusterMember> initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        state = new State(initial.ToImmutableSortedDictionary(m => m.Id, m => m), ImmutableSortedSet<ulong>.Empty);
    }

    /// <summary>The members in id order.</summary>
    public IReadOnlyList<ClusterMember> All => Volatile.Read(ref state).Members.Values.ToList();

    /// <summary>Ids of members removed from the cluster (never reused, refused by the peer transport).</summary>
    public IReadOnlySet<ulong> Removed => Volatile.Read(ref state).Removed;

    public bool IsRemoved(ulong id) => Volatile.Read(ref state).Removed.Contains(id);

    public ClusterMember? Find(ulong id) => Volatile.Read(ref state).Members.GetValueOrDefault(id);

    /// <summary>Records a member's published client URLs (and name). A removed member's late attributes are ignored.</summary>
    public void SetAttributes(MemberAttributes attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        var current = Volatile.Read(ref state);
        if (current.Removed.Contains(attributes.Id))
        {
            return;
        }

        var existing = current.Members.GetValueOrDefault(attributes.Id);
        var updated = existing is null
            ? new ClusterMember(attributes.Id, attributes.Name, [], attributes.ClientUrls)
            : existing with { Name = attributes.Name, ClientUrls = attributes.ClientUrls };
        Volatile.Write(ref state, current with { Members = current.Members.SetItem(attributes.Id, updated) });
    }

    /// <summary>Replaces a member's peer URLs (etcd's MemberUpdate); false when it is not a member.</summary>
    public bool SetPeerUrls(ulong id, IReadOnlyList<string> peerUrls)
    {
        ArgumentNullException.ThrowIfNull(peerUrls);
        var current = Volatile.Read(ref state);
        if (current.Members.GetValueOrDefault(id) is not { } existing)
        {
            return false;
        }

        Volatile.Write(ref state, current with { Members = current.Members.SetItem(id, existing with { PeerUrls = [.. peerUrls] }) });
        return true;
    }

    /// <summary>
    /// Applies a committed membership change; an addition's context carries "name\npeerUrl[\npeerUrl...]" (the name is
    /// empty for a member added by MemberAdd: it is named when its process publishes its attributes).
    /// </summary>
    public ClusterMember? Apply(ConfigChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var current = Volatile.Read(ref state);
        if (change.Type == ConfigChangeType.RemoveVoter)
        {
            Volatile.Write(ref state, new State(current.Members.Remove(change.NodeId), current.Removed.Add(change.NodeId)));
            return null;
        }

        var (name, peerUrls) = ParseContext(change.Context.Span);
        var existing = current.Members.GetValueOrDefault(change.NodeId);
        var member = existing is null
            ? new ClusterMember(change.NodeId, name ?? $"{change.NodeId:x}", peerUrls, [])
            : existing with
            {
                Name = string.IsNullOrEmpty(name) ? existing.Name : name,
                PeerUrls = peerUrls.Count == 0 ? existing.PeerUrls : peerUrls,
            };
        member = member with
        {
            IsLearner = change.Type switch
            {
                ConfigChangeType.AddLearner => existing is null || existing.IsLearner, // adding a voter as a learner changes nothing (MembershipRules)
                _ => false,
            },
        };
        Volatile.Write(ref state, current with { Members = current.Members.SetItem(change.NodeId, member) });
        return member;
    }

    /// <summary>Replaces the whole table (snapshot install).</summary>
    public void Replace(IEnumerable<ClusterMember> all, IEnumerable<ulong>? removed = null) =>
        Volatile.Write(ref state, new State(all.ToImmutableSortedDictionary(m => m.Id, m => m), (removed ?? []).ToImmutableSortedSet()));

    /// <summary>Replaces the whole table from a snapshot's serialized form (<see cref="Serialize"/>).</summary>
    internal void Replace(ReadOnlySpan<byte> json)
    {
        var (members, removed) = DeserializeTable(json);
        Replace(members, removed);
    }

    /// <summary>Builds the context a membership change carries so every node learns the new member's name and peer URL.</summary>
    public static byte[] EncodeContext(string name, string peerUrl) => EncodeContext(name, [peerUrl]);

    /// <summary>Builds the context of an addition with every peer URL of the member (name empty when not yet known).</summary>
    public static byte[] EncodeContext(string name, IReadOnlyList<string> peerUrls)
    {
        ArgumentNullException.ThrowIfNull(peerUrls);
        return System.Text.Encoding.UTF8.GetBytes(string.Join('\n', peerUrls.Prepend(name ?? "")));
    }

    private static (string? Name, IReadOnlyList<string> PeerUrls) ParseContext(ReadOnlySpan<byte> context)
    {
        if (context.IsEmpty)
        {
            return (null, []);
        }

        var lines = System.Text.Encoding.UTF8.GetString(context).Split('\n');
        return (lines[0], lines[1..].Where(u => u.Length > 0).ToArray());
    }

    /// <summary>
    /// The snapshot form: a JSON list of member records; removed members are records with "Removed": true (older
    /// snapshots, without them, read as having none removed).
    /// </summary>
    internal byte[] Serialize()
    {
        var current = Volatile.Read(ref state);
        var records = current.Members.Values.Select(m => new MemberRecord(m.Id, m.Name, [.. m.PeerUrls], [.. m.ClientUrls], m.IsLearner, false))
            .Concat(current.Removed.Select(id => new MemberRecord(id, "", [], [], false, true)));
        return JsonSerializer.SerializeToUtf8Bytes(records.ToList());
    }

    /// <summary>The members (not the removed ones) of a serialized table.</summary>
    internal static IReadOnlyList<ClusterMember> Deserialize(ReadOnlySpan<byte> json) => DeserializeTable(json).Members;

    internal static (IReadOnlyList<ClusterMember> Members, IReadOnlyList<ulong> Removed) DeserializeTable(ReadOnlySpan<byte> json)
    {
        var records = JsonSerializer.Deserialize<List<MemberRecord>>(json)
            ?? throw new InvalidDataException("the snapshot's member table is empty JSON");
        var members = records.Where(r => !r.Removed)
            .Select(r => new ClusterMember(r.Id, r.Name, r.PeerUrls, r.ClientUrls) { IsLearner = r.IsLearner })
            .ToList();
        return (members, records.Where(r => r.Removed).Select(r => r.Id).ToList());
    }

    private sealed record State(ImmutableSortedDictionary<ulong, ClusterMember> Members, ImmutableSortedSet<ulong> Removed);

    private sealed record MemberRecord(ulong Id, string Name, string[] PeerUrls, string[] ClientUrls, bool IsLearner = false, bool Removed = false);
}
