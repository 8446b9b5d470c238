using System.Collections.Immutable;
using Bulwark.Consensus;
using Bulwark.Consensus.Membership;
using Bulwark.Kv;
using Bulwark.Server.Hosting;
using Bulwark.Storage;
using Bulwark.Storage.FileSystem;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>
/// The apply worker's membership follows the core's own rule (<see cref="MembershipRules.Apply"/>) entry by entry, also
/// for a change that rule leaves without effect: the host and the core must never disagree on who is a voter.
/// </summary>
public sealed class AppliedMembershipTests
{
    private sealed class ConfigObserver : IHostTestObserver
    {
        public List<ClusterConfig> Configs { get; } = [];

        public void Written(Ready ready)
        {
        }

        public void Applied(Entry entry, ClusterConfig config, MvccStore store) => Configs.Add(config);

        public void Installed(SnapshotMetadata metadata)
        {
        }
    }

    [Fact]
    public void Every_applied_change_gives_the_cores_configuration()
    {
        ClusterMember[] members = [.. new ulong[] { 1, 2, 3 }.Select(id => new ClusterMember(id, $"n{id}", [$"http://127.0.0.1:{id}"], []))];
        var options = new NodeHostOptions { NodeId = 1, InitialCluster = members, DataDir = "/n1" };
        var observer = new ConfigObserver();
        var initial = ClusterConfig.Of(1, 2, 3);
        var pending = new PendingRequests(1);
        var diskFull = new DiskFullPolicy(1, NullLogger.Instance, null, pending);
        using var storage = NodeStorage.Open(new InMemoryFileSystem(seed: 1), "/n1");
        using var worker = new ApplyWorker(options, storage, new NullPeerNetwork(), pending, NullLogger.Instance,
            new MemberTable(members), diskFull, _ => { }, () => { }, initial, new HostDriver { InlineApply = true, TestObserver = observer });

        ConfigChange[] changes =
        [
            new(ConfigChangeType.AddLearner, 2), // already a voter: no effect, never both a voter and a learner
            new(ConfigChangeType.AddLearner, 4),
            new(ConfigChangeType.AddVoter, 4), // a learner added as a voter is promoted
            new(ConfigChangeType.RemoveVoter, 9), // not a member: no effect
            new(ConfigChangeType.AddLearner, 5),
            new(ConfigChangeType.RemoveVoter, 5), // removes the learner
        ];
        var entries = changes.Select((change, i) => new Entry(1, (ulong)i + 1, EntryType.ConfigChange, change.Encode())).ToImmutableArray();

        worker.Enqueue(new ApplyWork.Entries(entries));

        var expected = initial;
        Assert.Equal(changes.Length, observer.Configs.Count);
        for (var i = 0; i < changes.Length; i++)
        {
            expected = MembershipRules.Apply(expected, changes[i]);
            Assert.Equal(expected.Voters.Order(), observer.Configs[i].Voters.Order());
            Assert.Equal(expected.Learners.Order(), observer.Configs[i].Learners.Order());
        }

        Assert.DoesNotContain(2UL, observer.Configs[0].Learners);
    }
}
