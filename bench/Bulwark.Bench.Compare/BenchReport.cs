namespace Bulwark.Bench.Compare;

/// <summary>Everything one run measured; written as JSON and rendered as Markdown by <see cref="ReportMarkdown"/>.</summary>
public sealed record BenchReport
{
    public required DateTimeOffset Started { get; init; }

    public DateTimeOffset Finished { get; set; }

    public required string Command { get; init; }

    public required MachineInfo Machine { get; init; }

    public required BenchSettings Settings { get; init; }

    /// <summary>Extra environment of the Bulwark nodes (--bulwark-env), empty for a plain run.</summary>
    public required IReadOnlyDictionary<string, string> BulwarkEnvironment { get; init; }

    public PhysicalFloorResult? Floor { get; set; }

    public List<WorkloadMeasurement> Load { get; } = [];

    public List<FailoverSeries> Failover { get; } = [];

    /// <summary>The put workloads again with mutual TLS on client and peer ports (--tls), both systems on the same certificates.</summary>
    public List<WorkloadMeasurement> TlsLoad { get; } = [];

    public List<MemoryResult> Memory { get; } = [];

    public List<BackupResult> Backup { get; } = [];

    public List<CatchUpResult> CatchUp { get; } = [];

    public List<RejoinSeries> Rejoin { get; } = [];

    public List<WatchResult> Watch { get; } = [];

    public List<LeaseResult> Leases { get; } = [];

    public List<LockResult> Locks { get; } = [];

    /// <summary>--large and --wide phases, both systems.</summary>
    public List<LargeWideRow> LargeWide { get; } = [];

    public List<HugeResult> Huge { get; } = [];

    public List<WatchLeaseMemoryResult> WatchMemory { get; } = [];

    public List<string> Notes { get; } = [];
}

/// <summary>The machine and software the numbers come from.</summary>
public sealed record MachineInfo(string Cpu, int Cores, long MemoryMiB, string Kernel, string Dotnet, string Etcd, string DataDisk, double LoadAverageAtStart)
{
    public static MachineInfo Collect(string etcdVersion, string dataRoot)
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var memKb = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var drive = new DriveInfo(dataRoot);
        return new MachineInfo(
            cpu,
            Environment.ProcessorCount,
            long.Parse(memKb, System.Globalization.CultureInfo.InvariantCulture) / 1024,
            File.ReadAllText("/proc/sys/kernel/osrelease").Trim(),
            Environment.Version.ToString(),
            etcdVersion,
            $"{dataRoot} on {drive.Name} ({drive.DriveFormat})",
            ProcStat.LoadAverage());
    }
}
