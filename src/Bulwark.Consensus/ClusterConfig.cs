using System.Collections.Immutable;

namespace Bulwark.Consensus;

/// <summary>
/// The membership of the cluster: voters (who count toward quorums) and learners (who receive the log
/// but do not vote). <see cref="OutgoingVoters"/> is non-empty only while a joint configuration
/// (C_old,new) is in force; then a quorum needs a majority of each voter set.
/// Node ids are non-zero.
/// </summary>
public sealed record ClusterConfig(
    ImmutableSortedSet<ulong> Voters,
    ImmutableSortedSet<ulong> Learners,
    ImmutableSortedSet<ulong> OutgoingVoters)
{
    public static ClusterConfig Of(params ulong[] voters) =>
        new(ImmutableSortedSet.Create(voters), ImmutableSortedSet<ulong>.Empty, ImmutableSortedSet<ulong>.Empty);

    public bool IsJoint => !OutgoingVoters.IsEmpty;

    /// <summary>Every node that should receive the log: voters (incoming and outgoing) and learners.</summary>
    public IEnumerable<ulong> AllMembers => Voters.Union(OutgoingVoters).Union(Learners);

    public bool IsVoter(ulong id) => Voters.Contains(id) || OutgoingVoters.Contains(id);

    public bool Equals(ClusterConfig? other) =>
        other is not null && Voters.SetEquals(other.Voters) && Learners.SetEquals(other.Learners) &&
        OutgoingVoters.SetEquals(other.OutgoingVoters);

    public override int GetHashCode() => HashCode.Combine(string.Join(',', Voters), string.Join(',', Learners), string.Join(',', OutgoingVoters));

    public override string ToString() =>
        $"voters=[{string.Join(',', Voters)}] learners=[{string.Join(',', Learners)}]" +
        (IsJoint ? $" outgoing=[{string.Join(',', OutgoingVoters)}]" : "");
}
