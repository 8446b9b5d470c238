using Bulwark.Bench.Load;

namespace Bulwark.Bench.Compare;

/// <summary>One row of the comparison: the same load is run against each system.</summary>
public sealed record WorkloadSpec(string Name, Workload Workload, ReadConsistency Consistency, int Clients, int Connections)
{
    /// <summary>The issue's workloads: 256-byte puts at 1/16/64/256 clients, linearizable and serializable gets, a 50/50 mix.</summary>
    public static IReadOnlyList<WorkloadSpec> Standard { get; } =
    [
        new("put", Workload.Put, ReadConsistency.Linearizable, 1, 1),
        new("put", Workload.Put, ReadConsistency.Linearizable, 16, 1),
        new("put", Workload.Put, ReadConsistency.Linearizable, 64, 4),
        new("put", Workload.Put, ReadConsistency.Linearizable, 256, 16),
        new("get linearizable", Workload.Get, ReadConsistency.Linearizable, 64, 4),
        new("get serializable", Workload.Get, ReadConsistency.Serializable, 64, 4),
        new("mix 50/50 (linearizable gets)", Workload.Mix, ReadConsistency.Linearizable, 64, 4),
    ];

    public string Label => $"{Name}, {Clients} client{(Clients == 1 ? "" : "s")}";
}

/// <summary>One workload measured on one system: the load generator's result and the cluster's CPU.</summary>
public sealed record WorkloadMeasurement(string System, WorkloadSpec Spec, LoadResult Result, double ClusterCpuSeconds, double GeneratorCpuSeconds, double LoadAverageBefore)
{
    /// <summary>CPU seconds the cluster's processes (all three) used per 1,000 successful operations.</summary>
    public double CpuSecondsPer1000Ops => Result.Ops > 0 ? ClusterCpuSeconds / Result.Ops * 1000 : double.NaN;
}
