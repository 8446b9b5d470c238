using Bulwark.Server.Configuration;
using Bulwark.Server.Hosting;

namespace Bulwark.Server.Backup;

/// <summary>
/// What `bulwark snapshot restore` is asked to build, checked as etcdctl 3.4's `snapshot restore` checks its flags:
/// this member's name is in the initial cluster, its advertised peer URLs are the ones the initial cluster gives it,
/// and the data directory (NAME.etcd by default) does not exist yet or is empty.
/// </summary>
public sealed record RestorePlan(
    string SnapshotFile,
    ClusterMember Self,
    IReadOnlyList<ClusterMember> InitialCluster,
    string DataDir,
    bool SkipHashCheck)
{
    /// <summary>etcdctl's defaults, so a flag left out means what it means there.</summary>
    public const string DefaultName = "default";

    /// <inheritdoc cref="DefaultName"/>
    public const string DefaultInitialCluster = "default=http://localhost:2380";

    /// <inheritdoc cref="DefaultName"/>
    public const string DefaultAdvertisePeerUrls = "http://localhost:2380";

    /// <inheritdoc cref="DefaultName"/>
    public const string DefaultInitialClusterToken = "etcd-cluster";

    /// <summary>The cluster id every member restored with this initial cluster gets (as `bulwark serve` derives it).</summary>
    public ulong ClusterId => ClusterMember.ClusterIdOf(InitialCluster.Select(m => m.Id));

    /// <exception cref="RestoreRefusedException">A flag is malformed or inconsistent, or the data dir is in use.</exception>
    public static RestorePlan Create(string snapshotFile, string? name, string? initialCluster, string? advertisePeerUrls, string? dataDir,
        string? initialClusterToken, bool skipHashCheck)
    {
        ArgumentException.ThrowIfNullOrEmpty(snapshotFile);
        name ??= DefaultName;
        try
        {
            NodeOptionsValidation.CheckName("name", name);
            var members = InitialClusterParser.Parse(initialCluster ?? DefaultInitialCluster);
            var advertised = UrlSetting.ParseList("initial-advertise-peer-urls", advertisePeerUrls ?? DefaultAdvertisePeerUrls, "peer URL");
            if (string.IsNullOrWhiteSpace(initialClusterToken ?? DefaultInitialClusterToken))
            {
                throw new ConfigurationException("initial-cluster-token", "is empty");
            }

            var self = members.FirstOrDefault(m => m.Name == name)
                ?? throw new RestoreRefusedException($"couldn't find local name \"{name}\" in the initial cluster configuration ({Describe(members)})");

            // etcd's check: the URLs this member advertises are exactly the ones the initial cluster gives it.
            var expected = self.PeerUrls.Order(StringComparer.OrdinalIgnoreCase).ToList();
            var given = advertised.Order(StringComparer.OrdinalIgnoreCase).ToList();
            if (!expected.SequenceEqual(given, StringComparer.OrdinalIgnoreCase))
            {
                throw new RestoreRefusedException(
                    $"--initial-cluster has {name}={string.Join(",", expected)} but missing from --initial-advertise-peer-urls={string.Join(",", given)}");
            }

            var directory = Path.GetFullPath(string.IsNullOrEmpty(dataDir) ? name + ".etcd" : dataDir);
            if (File.Exists(directory) || (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any()))
            {
                throw new RestoreRefusedException($"data-dir \"{dataDir ?? name + ".etcd"}\" exists");
            }

            return new RestorePlan(Path.GetFullPath(snapshotFile), self, members, directory, skipHashCheck);
        }
        catch (ConfigurationException e)
        {
            throw new RestoreRefusedException(e.Message, e);
        }
    }

    private static string Describe(IReadOnlyList<ClusterMember> members) =>
        string.Join(",", members.Select(m => $"{m.Name}={m.PeerUrls[0]}"));
}
