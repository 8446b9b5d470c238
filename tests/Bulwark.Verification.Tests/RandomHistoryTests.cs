using Bulwark.Verification;

namespace Bulwark.Verification.Tests;

/// <summary>
/// Generated histories: operations take effect at a random point inside their interval, so the history is
/// linearizable by construction; then one read is corrupted, which must make it illegal.
/// </summary>
public sealed class RandomHistoryTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void LinearizableByConstructionIsAccepted(int seed)
    {
        var history = Generate(seed, operations: 400, clients: 6, keys: 4, unknownShare: 0.1);
        var result = LinearizabilityChecker.Check(KvModel.Instance, history);
        Assert.True(result.IsLinearizable, result.ToString());
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void CorruptedReadIsRejected(int seed)
    {
        var history = Generate(seed, operations: 300, clients: 5, keys: 3, unknownShare: 0.1).ToList();
        var readAt = history.FindIndex(op => op.Input.Kind == KvOperationKind.Get && !op.IsUnknown);
        history[readAt] = history[readAt] with { Output = KvOutput.Read("corrupt") };
        var result = LinearizabilityChecker.Check(KvModel.Instance, history);
        Assert.Equal(CheckVerdict.Illegal, result.Verdict);
        Assert.Contains(result.Violation!.NotLinearized, op => op.Output?.Value == "corrupt");
    }

    private static List<Operation<KvInput, KvOutput>> Generate(int seed, int operations, int clients, int keys, double unknownShare)
    {
        var random = new Random(seed);
        var store = new Dictionary<string, string?>();
        // Each client runs one call at a time; the effect happens at a point strictly inside the call.
        var clientFreeAt = new long[clients];
        var history = new List<Operation<KvInput, KvOutput>>();
        var effects = new List<(long At, int Client)>();
        for (var i = 0; i < operations; i++)
        {
            var client = random.Next(clients);
            var call = clientFreeAt[client] + random.Next(1, 5);
            var effectAt = call + random.Next(1, 20);
            var ret = effectAt + random.Next(1, 20);
            clientFreeAt[client] = ret;
            effects.Add((effectAt * 1000 + i, client));
            history.Add(new Operation<KvInput, KvOutput>(i, client, KvInput.Get("k"), null, call, ret));
        }

        // Apply effects in effect-time order to compute outputs.
        var order = Enumerable.Range(0, operations).OrderBy(i => effects[i].At).ToList();
        foreach (var i in order)
        {
            var key = $"k{random.Next(keys)}";
            store.TryGetValue(key, out var current);
            var value = $"v{i}";
            (KvInput input, KvOutput output) = random.Next(3) switch
            {
                0 => (KvInput.Get(key), KvOutput.Read(current)),
                1 => (KvInput.Put(key, value), KvOutput.Written),
                _ => CompareAndSet(random, key, current, value),
            };
            if (input.Kind != KvOperationKind.Get && (input.Kind == KvOperationKind.Put || output.Succeeded))
            {
                store[key] = value;
            }

            var op = history[i] with { Input = input, Output = output };
            if (input.Kind != KvOperationKind.Get && random.NextDouble() < unknownShare)
            {
                op = op with { Output = null, Return = Operation<KvInput, KvOutput>.Never };
            }

            history[i] = op;
        }

        return history;
    }

    private static (KvInput, KvOutput) CompareAndSet(Random random, string key, string? current, string value)
    {
        var expected = random.Next(2) == 0 ? current : "other";
        return (KvInput.CompareAndSet(key, expected, value), KvOutput.Swapped(string.Equals(expected, current, StringComparison.Ordinal)));
    }
}
