using Bulwark.Chaos;
using Bulwark.Chaos.Faults;

namespace Bulwark.Cli.Tests.Chaos;

public sealed class FaultScheduleTests
{
    private static readonly FaultKind[] Kinds = [FaultKind.KillLeader, FaultKind.PauseLeader, FaultKind.PartitionLeader, FaultKind.KillFollower];

    [Fact]
    public void The_same_seed_gives_the_same_schedule_and_another_seed_another()
    {
        var a = FaultSchedule.Plan(Kinds, TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(3), seed: 5);
        var b = FaultSchedule.Plan(Kinds, TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(3), seed: 5);
        var c = FaultSchedule.Plan(Kinds, TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(3), seed: 6);

        Assert.Equal(a, b);
        Assert.NotEqual(a.Select(f => (f.Kind, f.Hold)), c.Select(f => (f.Kind, f.Hold)));
    }

    [Fact]
    public void Every_round_deals_every_kind_once_and_every_fault_ends_inside_the_run()
    {
        var duration = TimeSpan.FromSeconds(90);
        var plan = FaultSchedule.Plan(Kinds, duration, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(3), seed: 11);

        Assert.Equal(9, plan.Count); // at 3, 13, ..., 83 s (held at most 6 s); one at 93 s would not end by 90 s
        foreach (var round in plan.Chunk(Kinds.Length).Where(r => r.Length == Kinds.Length))
        {
            Assert.Equal(Kinds.Order(), round.Select(f => f.Kind).Order());
        }

        Assert.All(plan, f =>
        {
            var (min, max) = FaultSchedule.HoldRange(f.Kind);
            Assert.InRange(f.Hold, min, max);
            Assert.True(f.At + f.Hold <= duration);
        });
    }

    [Fact]
    public void Fault_names_parse_and_unknown_ones_are_refused_by_name()
    {
        Assert.Equal([FaultKind.KillLeader, FaultKind.PartitionRandom], FaultKinds.Parse("kill-leader, partition-random"));
        Assert.Empty(FaultKinds.Parse("none"));
        Assert.Equal(FaultKinds.Names.Count, FaultKinds.Parse("all").Count);
        var error = Assert.Throws<ChaosInputException>(() => FaultKinds.Parse("kill-leader,unplug"));
        Assert.Contains("unknown fault 'unplug'", error.Message, StringComparison.Ordinal);
    }
}
