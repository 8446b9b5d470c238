namespace Bulwark.EndToEnd.Tests.Deploy;

/// <summary>Where the deployment files live in the repository.</summary>
internal static class DeployPaths
{
    public static string Root { get; } = FindRoot();

    public static string Systemd => Path.Combine(Root, "deploy", "systemd");

    public static string Kubernetes => Path.Combine(Root, "deploy", "kubernetes");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Bulwark.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no Bulwark.slnx above {AppContext.BaseDirectory}");
    }

    /// <summary>
    /// The settings `bulwark serve` knows, plus initial-cluster-state, which the membership work (issue 13) adds with
    /// etcd's meaning; once it is in <see cref="Bulwark.Server.Configuration.NodeSettings"/> this adds nothing.
    /// </summary>
    public static bool IsServeSetting(string key) =>
        Bulwark.Server.Configuration.NodeSettings.Find(key) is not null || key == InitialClusterState;

    public const string InitialClusterState = "initial-cluster-state";
}
