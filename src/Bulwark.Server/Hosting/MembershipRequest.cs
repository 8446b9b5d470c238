namespace Bulwark.Server.Hosting;

/// <summary>One membership change a client asked for (etcd's MemberAdd, MemberRemove, MemberUpdate, MemberPromote).</summary>
public abstract record MembershipRequest
{
    /// <summary>The member the request is about (for an addition, the id chosen for the new member).</summary>
    public abstract ulong MemberId { get; }

    /// <summary>Adds a member under <paramref name="NewId"/>, a learner or a voter, reached at <paramref name="PeerUrls"/>.</summary>
    public sealed record Add(ulong NewId, IReadOnlyList<string> PeerUrls, bool IsLearner) : MembershipRequest
    {
        public override ulong MemberId => NewId;

        public override string ToString() => $"add {(IsLearner ? "learner" : "voter")} {NewId:x} at {string.Join(",", PeerUrls)}";
    }

    public sealed record Remove(ulong Id) : MembershipRequest
    {
        public override ulong MemberId => Id;

        public override string ToString() => $"remove {Id:x}";
    }

    /// <summary>New peer URLs for a member.</summary>
    public sealed record Update(ulong Id, IReadOnlyList<string> PeerUrls) : MembershipRequest
    {
        public override ulong MemberId => Id;

        public override string ToString() => $"update {Id:x} to {string.Join(",", PeerUrls)}";
    }

    public sealed record Promote(ulong Id) : MembershipRequest
    {
        public override ulong MemberId => Id;

        public override string ToString() => $"promote {Id:x}";
    }
}
