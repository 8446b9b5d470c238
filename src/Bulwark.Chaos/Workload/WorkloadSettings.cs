namespace Bulwark.Chaos.Workload;

/// <summary>The recording workload: how many clients, over how many keys, with what per-call deadline and seed.</summary>
public sealed record WorkloadSettings(int Clients, int Keys, TimeSpan OpTimeout, int Seed)
{
    public const string KeyPrefix = "chaos/";

    public IReadOnlyList<string> KeyNames => Enumerable.Range(0, Keys).Select(i => $"{KeyPrefix}k{i}").ToList();
}
