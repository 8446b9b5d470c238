using System.Globalization;

namespace MasterBackup.Worker;

/// <summary>The worker's command line: where it listens, which Bulwark (or etcd) cluster it uses, how it campaigns.</summary>
public sealed record WorkerSettings(
    string Url,
    IReadOnlyList<string> Endpoints,
    string Instance,
    string Election,
    string Prefix,
    TimeSpan SessionTtl,
    bool ReleaseOnDisconnect,
    TimeSpan Interval)
{
    public const string Usage =
        "usage: MasterBackup.Worker --url http://127.0.0.1:5101 --endpoints http://127.0.0.1:2379[,...] " +
        "[--instance NAME] [--election masterbackup] [--prefix records/] [--ttl-seconds 5] " +
        "[--release-on-disconnect true|false] [--interval-ms 200]";

    /// <summary>Parses <paramref name="args"/>; throws <see cref="ArgumentException"/> with the usage on bad input.</summary>
    public static WorkerSettings Parse(IReadOnlyList<string> args)
    {
        var values = SampleArguments.Parse(args, ["--url", "--endpoints", "--instance", "--election", "--prefix", "--ttl-seconds", "--release-on-disconnect", "--interval-ms"], Usage);
        var url = SampleArguments.Required(values, "--url", Usage);
        var endpoints = SampleArguments.Endpoints(values, Usage);
        var ttl = SampleArguments.Number(values, "--ttl-seconds", 5, Usage);
        if (ttl < 1)
        {
            throw new ArgumentException($"--ttl-seconds must be at least 1 (was {ttl}).{Environment.NewLine}{Usage}");
        }

        var interval = SampleArguments.Number(values, "--interval-ms", 200, Usage);
        if (interval < 0)
        {
            throw new ArgumentException($"--interval-ms must not be negative (was {interval}).{Environment.NewLine}{Usage}");
        }

        var releaseText = values.GetValueOrDefault("--release-on-disconnect", "true");
        if (!bool.TryParse(releaseText, out var release))
        {
            throw new ArgumentException($"--release-on-disconnect takes true or false (was '{releaseText}').{Environment.NewLine}{Usage}");
        }

        var prefix = values.GetValueOrDefault("--prefix", "records/");
        if (prefix.Length == 0)
        {
            throw new ArgumentException($"--prefix must not be empty.{Environment.NewLine}{Usage}");
        }

        return new WorkerSettings(
            url,
            endpoints,
            values.GetValueOrDefault("--instance", url),
            values.GetValueOrDefault("--election", "masterbackup"),
            prefix,
            TimeSpan.FromSeconds(ttl),
            release,
            TimeSpan.FromMilliseconds(interval));
    }

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"instance {Instance} on {Url}, election '{Election}', records under '{Prefix}', ttl {SessionTtl.TotalSeconds} s, release on disconnect {ReleaseOnDisconnect}, a record every {Interval.TotalMilliseconds} ms, cluster {string.Join(",", Endpoints)}");
}
