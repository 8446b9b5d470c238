using System.Collections.Immutable;
using Bulwark.Consensus.Membership;

namespace Bulwark.Consensus.Tests;

/// <summary>
/// <see cref="MembershipRules.Apply"/>, the public rule the host must use for its own view of the membership:
/// what each change does, and that the core's configuration after a configuration entry is exactly its result.
/// </summary>
public sealed class MembershipRulesTests
{
    /// <summary>Voters 1, 2, 3 and learner 4.</summary>
    private static readonly ClusterConfig Start =
        new(ImmutableSortedSet.Create<ulong>(1, 2, 3), ImmutableSortedSet.Create<ulong>(4), []);

    private static ClusterConfig Config(ulong[] voters, ulong[] learners) =>
        new(ImmutableSortedSet.Create(voters), ImmutableSortedSet.Create(learners), []);

    public static TheoryData<ConfigChangeType, ulong, ulong[], ulong[]> Cases => new()
    {
        { ConfigChangeType.AddVoter, 5, [1, 2, 3, 5], [4] },
        { ConfigChangeType.AddVoter, 4, [1, 2, 3, 4], [] }, // a learner added as a voter is promoted
        { ConfigChangeType.AddVoter, 2, [1, 2, 3], [4] },
        { ConfigChangeType.AddLearner, 5, [1, 2, 3], [4, 5] },
        { ConfigChangeType.AddLearner, 4, [1, 2, 3], [4] },
        { ConfigChangeType.AddLearner, 2, [1, 2, 3], [4] }, // a voter is never demoted nor in both sets
        { ConfigChangeType.PromoteLearner, 4, [1, 2, 3, 4], [] },
        { ConfigChangeType.RemoveVoter, 2, [1, 3], [4] },
        { ConfigChangeType.RemoveVoter, 4, [1, 2, 3], [] }, // removes a learner too
        { ConfigChangeType.RemoveVoter, 9, [1, 2, 3], [4] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EachChangeGivesItsConfiguration(ConfigChangeType type, ulong node, ulong[] voters, ulong[] learners)
    {
        var after = MembershipRules.Apply(Start, new ConfigChange(type, node));

        Assert.Equal(Config(voters, learners), after);
        Assert.Empty(after.Voters.Intersect(after.Learners));
    }

    [Fact]
    public void AVoterAddedAsALearnerLeavesTheConfigurationAsItWas()
    {
        Assert.Equal(Start, MembershipRules.Apply(Start, new ConfigChange(ConfigChangeType.AddLearner, 1)));
        Assert.NotNull(MembershipRules.Validate(Start, new ConfigChange(ConfigChangeType.AddLearner, 1)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheCoresConfigurationAfterAConfigurationEntryIsTheRulesResult(
        ConfigChangeType type, ulong node, ulong[] voters, ulong[] learners)
    {
        // A follower takes the entry from its leader as it is (even one its own validation would refuse): what it
        // ends up with is exactly what the public rule computes, so a host using the rule agrees with its core.
        var follower = new RaftNode(new RaftConfig { Id = 2 }, RaftState.Bootstrap(Start), new SeededRandom(2));
        var change = new ConfigChange(type, node, "peer-url"u8.ToArray());
        follower.Step(new Message
        {
            Type = MessageType.Append, From = 1, To = 2, Term = 1, Index = 0, LogTerm = 0, Commit = 1,
            Entries = [new Entry(1, 1, EntryType.ConfigChange, change.Encode())],
        });

        Assert.Equal(1UL, follower.Status().HardState.Commit);
        Assert.Equal(MembershipRules.Apply(Start, change), follower.Status().Config);
        Assert.Equal(Config(voters, learners), follower.Status().Config);
    }
}
