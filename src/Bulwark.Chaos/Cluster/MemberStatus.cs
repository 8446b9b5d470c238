namespace Bulwark.Chaos.Cluster;

/// <summary>What a member said to Status: its own id, the leader it knows (0 = none), its term and its applied index.</summary>
public sealed record MemberStatus(int Member, ulong MemberId, ulong Leader, ulong Term, long Applied)
{
    public bool IsLeader => Leader != 0 && Leader == MemberId;
}
