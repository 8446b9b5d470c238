using Bulwark.Server.Hosting;

namespace Bulwark.Server.Tests.Hosting;

public class WorkQueueTests
{
    [Fact]
    public void A_sleeping_consumer_gets_every_item_from_several_producers_in_each_producers_order_then_stops_on_complete()
    {
        var queue = new WorkQueue<(int Producer, int Seq)>();
        var taken = new List<(int Producer, int Seq)>();
        var consumer = new Thread(() =>
        {
            while (queue.TryTake(out var item))
            {
                taken.Add(item);
            }
        });
        consumer.Start();

        var producers = Enumerable.Range(0, 4).Select(p => new Thread(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                Assert.True(queue.Add((p, i)));
                if (i % 1000 == 0)
                {
                    Thread.Sleep(1); // let the consumer run dry and go to sleep now and then
                }
            }
        })).ToList();
        producers.ForEach(t => t.Start());
        producers.ForEach(t => t.Join());
        queue.Complete();
        Assert.True(consumer.Join(TimeSpan.FromMinutes(2)), "the consumer did not stop after Complete");

        Assert.Equal(80_000, taken.Count);
        foreach (var group in taken.GroupBy(t => t.Producer))
        {
            Assert.Equal(Enumerable.Range(0, 20_000), group.Select(t => t.Seq));
        }
    }

    [Fact]
    public void Items_added_before_complete_are_still_taken_and_later_ones_are_refused()
    {
        var queue = new WorkQueue<int>();
        queue.Add(1);
        queue.Add(2);
        queue.Complete();

        Assert.False(queue.Add(3));
        Assert.True(queue.TryTake(out var a));
        Assert.True(queue.TryTake(out var b));
        Assert.False(queue.TryTake(out _));
        Assert.Equal((1, 2), (a, b));
    }
}
