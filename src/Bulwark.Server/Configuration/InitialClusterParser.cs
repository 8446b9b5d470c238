using Bulwark.Server.Hosting;

namespace Bulwark.Server.Configuration;

/// <summary>Parses etcd's --initial-cluster syntax: "n1=http://10.0.0.1:2380,n2=http://10.0.0.2:2380".</summary>
public static class InitialClusterParser
{
    /// <summary>Members with ids derived from names (see <see cref="ClusterMember.IdFromName"/>), in the order given.</summary>
    public static IReadOnlyList<ClusterMember> Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ConfigurationException(NodeSettings.InitialCluster, "is empty; expected name=peer-url[,name=peer-url...]");
        }

        var members = new List<ClusterMember>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var urls = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var eq = raw.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == raw.Length - 1)
            {
                throw new ConfigurationException(NodeSettings.InitialCluster, $"entry '{raw}' is not name=peer-url");
            }

            var name = raw[..eq].Trim();
            var url = raw[(eq + 1)..].Trim();
            NodeOptionsValidation.CheckName(NodeSettings.InitialCluster, name);
            var peerUrl = UrlSetting.Parse(NodeSettings.InitialCluster, url, $"peer URL of '{name}'");
            if (!names.Add(name))
            {
                throw new ConfigurationException(NodeSettings.InitialCluster, $"member name '{name}' appears twice");
            }

            if (!urls.Add(peerUrl))
            {
                throw new ConfigurationException(NodeSettings.InitialCluster, $"peer URL {peerUrl} is given to two members");
            }

            members.Add(new ClusterMember(ClusterMember.IdFromName(name), name, [peerUrl], []));
        }

        return members;
    }
}
