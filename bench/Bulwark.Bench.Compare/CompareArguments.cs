using System.Globalization;

namespace Bulwark.Bench.Compare;

/// <summary>bulwark-compare's flags.</summary>
public sealed record CompareArguments
{
    public const string Usage = """
        bulwark-compare: a 3-node etcd cluster and a 3-node Bulwark cluster on loopback, one after the other, same workloads

          --bulwark-dll PATH   the built CLI (src/Bulwark.Cli/bin/Release/net10.0/bulwark.dll); copied aside before use
          --etcd PATH          etcd binary (/usr/bin/etcd)
          --dotnet PATH        dotnet host for Bulwark nodes (the one running this)
          --data-root DIR      parent of both clusters' data dirs, one disk for both (/tmp)
          --out DIR            where results.json and report.md go (/tmp/bulwark-bench/<time>)
          --quick              short run: 2 s phases, 2 failover trials, 50k keys for --memory
          --memory             also the memory benchmark (1M keys; slow)
          --backup             also backup and restore: etcdctl snapshot save against each leader (time, MB/s, the
                               leader's RSS before and at its peak while saving) and the restore of one member (1M keys; slow)
          --catchup            also the catch-up of a new member: N keys loaded, `member add --learner`, the new member
                               started with initial cluster state "existing"; seconds to snapshot received and
                               installed, to caught up (applied index) and to `member promote` accepted, against a plain
                               loopback TCP copy of the snapshot's bytes (1M keys; slow)
          --coordination       also watch fan-out (1,000 watchers / 10 streams at 1,000 puts/s; memory of 100,000 idle
                               watchers) and leases (10,000 kept alive at TTL/3; grant+revoke pairs)
          --tls                also the put workloads with mutual TLS on client and peer ports, both systems on the
                               same throwaway certificates (CertificateRequest), next to the plain-text ones
          --rejoin             also the rejoin of a killed follower (issue 15): 8 clients on the two other members, the
                               follower SIGKILLed and restarted 3 s later; longest window without a successful call on
                               those clients, time to the returning member's first linearizable read (--trials times)
          --lock               also lock hand-over: 16 contenders, each with its own lease, loop Lock -> Unlock on one
                               lock name through the v3lockpb.Lock service of the leader (acquisitions/s, acquire p50/p99)
          --large              also 1 MiB values (issue 17): put throughput and p50/p99 from 1 and 16 clients, then
                               linearizable gets of them; both servers at their default 1.5 MiB max-request-bytes
          --wide               also 10,000-key range reads (issue 17): one prefix of 10,000 keys of 256 B, read whole
                               from 1 and 16 clients: linearizable, serializable, keys-only and count-only
          --huge               also a huge store (issue 17; very slow): --huge-keys keys loaded in Txns of 128 puts,
                               then RSS and data dir size per member, `etcdctl snapshot save` and Defragment times on
                               the leader (Bulwark's internal snapshot duration from its metrics), and a follower's
                               restart after SIGKILL (to serving, to caught up)
          --watch-memory       also memory with 100,000 watches (100 streams x 1,000, round-robin over the members)
                               and then 10,000 leases with 3 keys each: RSS per member at each stage and a one-client
                               put/get latency sample at each stage (issue 17, deliverable 5)
          --no-load            skip throughput/latency/CPU
          --no-failover        skip the failover benchmark
          --duration S         measured seconds per load phase (10; quick 2)
          --trials N           failover trials per system and writer count (5; quick 2)
          --memory-keys N      keys for --memory (1000000; quick 50000)
          --backup-keys N      keys for --backup (1000000; quick 50000)
          --catchup-keys N     keys for --catchup (1000000; quick 50000)
          --huge-keys N        keys for --huge (10000000; quick 100000)
          --bulwark-env K=V    environment variable for the Bulwark nodes (repeatable; e.g. runtime knobs under test)
        """;

    public required string BulwarkDll { get; init; }

    public string Etcd { get; init; } = "/usr/bin/etcd";

    public required string Dotnet { get; init; }

    public string DataRoot { get; init; } = "/tmp";

    public required string OutDir { get; init; }

    public bool Quick { get; init; }

    /// <summary>--tls: the put workloads again on both systems with mutual TLS (same throwaway certificates), next to plain text.</summary>
    public bool Tls { get; init; }

    public bool Memory { get; init; }

    public bool Coordination { get; init; }

    public bool Backup { get; init; }

    public bool Lock { get; init; }

    public bool CatchUp { get; init; }

    /// <summary>The rejoin benchmark (issue 15): a follower killed and restarted under load, healthy members' windows.</summary>
    public bool Rejoin { get; init; }

    /// <summary>--large: 1 MiB values, puts and gets (issue 17).</summary>
    public bool Large { get; init; }

    /// <summary>--wide: range reads of a 10,000-key prefix (issue 17).</summary>
    public bool Wide { get; init; }

    /// <summary>--huge: a store of <see cref="BenchSettings.HugeKeys"/> keys: memory, disk, snapshot and restart times (issue 17).</summary>
    public bool Huge { get; init; }

    /// <summary>--watch-memory: RSS with 100,000 watches and 10,000 leases (issue 17, deliverable 5).</summary>
    public bool WatchMemory { get; init; }

    public bool Load { get; init; } = true;

    public bool Failover { get; init; } = true;

    public required BenchSettings Settings { get; init; }

    public IReadOnlyDictionary<string, string> BulwarkEnvironment { get; init; } = new Dictionary<string, string>();

    public static CompareArguments Parse(IReadOnlyList<string> args)
    {
        var flags = new HashSet<string>(StringComparer.Ordinal);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] switches = ["quick", "memory", "coordination", "lock", "backup", "catchup", "rejoin", "tls", "large", "wide", "huge", "watch-memory", "no-load", "no-failover"];
        string[] valued = ["bulwark-dll", "etcd", "dotnet", "data-root", "out", "duration", "trials", "memory-keys", "backup-keys", "catchup-keys", "huge-keys"];
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i].StartsWith("--", StringComparison.Ordinal) ? args[i][2..] : throw new ArgumentException($"unexpected argument '{args[i]}'");
            if (name == "bulwark-env")
            {
                var pair = i + 1 < args.Count ? args[++i] : throw new ArgumentException("--bulwark-env needs KEY=VALUE");
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                environment[eq > 0 ? pair[..eq] : throw new ArgumentException($"--bulwark-env: '{pair}' is not KEY=VALUE")] = pair[(eq + 1)..];
            }
            else if (switches.Contains(name))
            {
                flags.Add(name);
            }
            else if (valued.Contains(name))
            {
                values[name] = i + 1 < args.Count ? args[++i] : throw new ArgumentException($"--{name} needs a value");
            }
            else
            {
                throw new ArgumentException($"unknown flag --{name}");
            }
        }

        var quick = flags.Contains("quick");
        var settings = quick ? BenchSettings.Quick : BenchSettings.Full;
        if (values.TryGetValue("duration", out var d))
        {
            settings = settings with { Duration = TimeSpan.FromSeconds(Positive(d, "duration")) };
        }

        if (values.TryGetValue("trials", out var t))
        {
            settings = settings with { FailoverTrials = (int)Positive(t, "trials") };
        }

        if (values.TryGetValue("memory-keys", out var k))
        {
            settings = settings with { MemoryKeys = (int)Positive(k, "memory-keys") };
        }

        if (values.TryGetValue("backup-keys", out var bk))
        {
            settings = settings with { BackupKeys = (int)Positive(bk, "backup-keys") };
        }

        if (values.TryGetValue("catchup-keys", out var ck))
        {
            settings = settings with { CatchUpKeys = (int)Positive(ck, "catchup-keys") };
        }

        if (values.TryGetValue("huge-keys", out var hk))
        {
            settings = settings with { HugeKeys = (int)Positive(hk, "huge-keys") };
        }

        var dll = values.GetValueOrDefault("bulwark-dll") ?? throw new ArgumentException("--bulwark-dll is required");
        if (!File.Exists(dll))
        {
            throw new ArgumentException($"--bulwark-dll: {dll} does not exist; build src/Bulwark.Cli -c Release first");
        }

        var etcd = values.GetValueOrDefault("etcd") ?? "/usr/bin/etcd";
        if (!File.Exists(etcd))
        {
            throw new ArgumentException($"--etcd: {etcd} does not exist; install it with: apt-get install etcd-server etcd-client");
        }

        var dataRoot = values.GetValueOrDefault("data-root") ?? "/tmp";
        if (!Directory.Exists(dataRoot))
        {
            throw new ArgumentException($"--data-root: {dataRoot} is not a directory");
        }

        return new CompareArguments
        {
            BulwarkDll = Path.GetFullPath(dll),
            Etcd = etcd,
            Dotnet = values.GetValueOrDefault("dotnet") ?? Environment.ProcessPath ?? "dotnet",
            DataRoot = dataRoot,
            OutDir = values.GetValueOrDefault("out") ?? Path.Combine(Path.GetTempPath(), "bulwark-bench", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)),
            Quick = quick,
            Memory = flags.Contains("memory"),
            Coordination = flags.Contains("coordination"),
            Backup = flags.Contains("backup"),
            Lock = flags.Contains("lock"),
            CatchUp = flags.Contains("catchup"),
            Rejoin = flags.Contains("rejoin"),
            Tls = flags.Contains("tls"),
            Large = flags.Contains("large"),
            Wide = flags.Contains("wide"),
            Huge = flags.Contains("huge"),
            WatchMemory = flags.Contains("watch-memory"),
            Load = !flags.Contains("no-load"),
            Failover = !flags.Contains("no-failover"),
            Settings = settings,
            BulwarkEnvironment = environment,
        };
    }

    private static double Positive(string text, string name) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && double.IsFinite(v)
            ? v
            : throw new ArgumentException($"--{name}: '{text}' is not a positive number");
}
