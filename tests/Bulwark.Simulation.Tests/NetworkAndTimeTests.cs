using Bulwark.Consensus;
using Bulwark.Simulation;

namespace Bulwark.Simulation.Tests;

public sealed class NetworkAndTimeTests
{
    private static Message M(ulong from, ulong to, ulong index = 0) => new() { Type = MessageType.Heartbeat, From = from, To = to, Index = index };

    [Fact]
    public void EventsRunInTimeOrderThenInsertionOrder()
    {
        var scheduler = new EventScheduler();
        var seen = new List<string>();
        scheduler.At(20, () => seen.Add("b"));
        scheduler.At(10, () => seen.Add("a"));
        scheduler.At(20, () => seen.Add("c"));
        scheduler.RunUntil(100);
        Assert.Equal(["a", "b", "c"], seen);
        Assert.Equal(100, scheduler.Now);
        Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.At(50, () => { }));
    }

    [Fact]
    public void SameSeedGivesTheSameRandomSequence()
    {
        var a = new DeterministicRandom(99);
        var b = new DeterministicRandom(99);
        Assert.Equal(Enumerable.Range(0, 50).Select(_ => a.NextULong()), Enumerable.Range(0, 50).Select(_ => b.NextULong()));
        Assert.NotEqual(new DeterministicRandom(1).NextULong(), new DeterministicRandom(2).NextULong());
    }

    [Fact]
    public void ReliableNetworkDeliversEverythingOnceWithinTheLatencyBounds()
    {
        var scheduler = new EventScheduler();
        var delivered = new List<(long At, Message Message)>();
        var network = new SimNetwork(scheduler, new DeterministicRandom(3), new TraceHash(), m => { delivered.Add((scheduler.Now, m)); return true; });
        for (ulong i = 0; i < 100; i++)
        {
            network.Send(M(1, 2, i));
        }

        scheduler.RunUntil(1_000_000);
        Assert.Equal(100, delivered.Count);
        Assert.All(delivered, d => Assert.InRange(d.At, NetworkConditions.Reliable.MinLatency, NetworkConditions.Reliable.MaxLatency));
        // Random latency reorders messages.
        Assert.NotEqual(delivered.Select(d => d.Message.Index).Order(), delivered.Select(d => d.Message.Index));
    }

    [Fact]
    public void LossyNetworkDropsAndDuplicates()
    {
        var scheduler = new EventScheduler();
        var delivered = 0;
        var network = new SimNetwork(scheduler, new DeterministicRandom(4), new TraceHash(), _ => { delivered++; return true; })
        {
            Conditions = new NetworkConditions(DropRate: 0.2, DuplicateRate: 0.2, DelaySpikeRate: 0, MinLatency: 100, MaxLatency: 200),
        };
        for (var i = 0; i < 1000; i++)
        {
            network.Send(M(1, 2));
        }

        scheduler.RunUntil(1_000_000);
        Assert.InRange(network.Dropped, 100, 300);
        Assert.InRange(network.Duplicated, 100, 300);
        Assert.Equal(1000 - network.Dropped + network.Duplicated, delivered);
    }

    /// <summary>
    /// The production store applies whatever the log holds, so a forwarded proposal delivered twice would be applied
    /// twice; the real transport (TCP) never delivers a message twice, so neither does the simulated one for proposals.
    /// </summary>
    [Fact]
    public void AForwardedProposalIsDroppedOrDelayedButNeverDuplicated()
    {
        var scheduler = new EventScheduler();
        var delivered = 0;
        var network = new SimNetwork(scheduler, new DeterministicRandom(4), new TraceHash(), _ => { delivered++; return true; })
        {
            Conditions = new NetworkConditions(DropRate: 0.2, DuplicateRate: 0.5, DelaySpikeRate: 0, MinLatency: 100, MaxLatency: 200),
        };
        for (var i = 0; i < 1000; i++)
        {
            network.Send(M(1, 2) with { Type = MessageType.Propose });
        }

        scheduler.RunUntil(1_000_000);
        Assert.InRange(network.Dropped, 100, 300);
        Assert.Equal(0, network.Duplicated);
        Assert.Equal(1000 - network.Dropped, delivered);
    }

    [Fact]
    public void PartitionsCutLinksInOneOrBothDirectionsAndHeal()
    {
        var scheduler = new EventScheduler();
        var delivered = new List<Message>();
        var undeliverable = new List<Message>();
        var network = new SimNetwork(scheduler, new DeterministicRandom(5), new TraceHash(), m => { delivered.Add(m); return true; })
        {
            Undeliverable = undeliverable.Add,
        };
        network.CutOneWay(1, 2);
        network.Send(M(1, 2));
        network.Send(M(2, 1));
        scheduler.RunUntil(100_000);
        Assert.Equal([(2UL, 1UL)], delivered.Select(m => (m.From, m.To)));
        Assert.Single(undeliverable);

        network.HealAll();
        network.Split([1], [2, 3]);
        network.Send(M(3, 1));
        network.Send(M(2, 3));
        scheduler.RunUntil(200_000);
        Assert.Equal((2UL, 3UL), (delivered[^1].From, delivered[^1].To));

        // A message in flight when its link is cut is lost.
        network.HealAll();
        network.Send(M(1, 3));
        network.Split([1], [3]);
        scheduler.RunUntil(300_000);
        Assert.DoesNotContain(delivered, m => m.From == 1 && m.To == 3);
    }
}
