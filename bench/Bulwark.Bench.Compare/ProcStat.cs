using System.Globalization;

namespace Bulwark.Bench.Compare;

/// <summary>What the kernel says a process has used: CPU time from /proc/&lt;pid&gt;/stat and resident memory from /proc/&lt;pid&gt;/status.</summary>
public static class ProcStat
{
    /// <summary>USER_HZ: the unit of utime and stime (100 on every Linux this runs on).</summary>
    private const double TicksPerSecond = 100.0;

    /// <summary>utime + stime of <paramref name="pid"/> in seconds (its threads included; not its children).</summary>
    public static double CpuSeconds(int pid)
    {
        var text = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) may hold spaces or parentheses; the fields after its closing ')' are fixed.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state); utime is field 14, stime field 15.
        var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (utime + stime) / TicksPerSecond;
    }

    /// <summary>Sum of <see cref="CpuSeconds"/> over <paramref name="pids"/>.</summary>
    public static double CpuSeconds(IEnumerable<int> pids) => pids.Sum(CpuSeconds);

    /// <summary>VmRSS of <paramref name="pid"/> in bytes.</summary>
    public static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"no VmRSS in /proc/{pid}/status");
    }

    /// <summary>The 1-minute load average, to record how busy the machine was.</summary>
    public static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
}
