namespace Bulwark.Server.Security;

/// <summary>
/// The certificate files of a local TLS cluster under one directory: ca.crt (the throwaway CA every side trusts),
/// server.crt/key (client listeners), peer.crt/key (peer listeners and the connections between members) and
/// client.crt/key (for etcdctl and the bulwark CLI). Every leaf names 127.0.0.1 and localhost.
/// </summary>
public sealed record LocalClusterCertificates(string Directory)
{
    public static readonly IReadOnlyList<string> LoopbackHosts = ["127.0.0.1", "localhost", "::1"];

    public string CaFile => Path.Combine(Directory, "ca.crt");

    public string ServerCertFile => Path.Combine(Directory, "server.crt");

    public string ServerKeyFile => Path.Combine(Directory, "server.key");

    public string PeerCertFile => Path.Combine(Directory, "peer.crt");

    public string PeerKeyFile => Path.Combine(Directory, "peer.key");

    public string ClientCertFile => Path.Combine(Directory, "client.crt");

    public string ClientKeyFile => Path.Combine(Directory, "client.key");

    private IEnumerable<string> All => [CaFile, ServerCertFile, ServerKeyFile, PeerCertFile, PeerKeyFile, ClientCertFile, ClientKeyFile];

    /// <summary>True when every file is there (a cluster started before keeps its certificates).</summary>
    public bool Exist => All.All(File.Exists);

    /// <summary>Makes a new CA and the three leaf pairs, overwriting any files there.</summary>
    public LocalClusterCertificates Generate()
    {
        using var ca = LocalCertificateAuthority.Create();
        return Generate(ca);
    }

    /// <summary>Writes <paramref name="ca"/>'s certificate and three leaf pairs it issues, overwriting any files there.</summary>
    public LocalClusterCertificates Generate(LocalCertificateAuthority ca)
    {
        ArgumentNullException.ThrowIfNull(ca);
        System.IO.Directory.CreateDirectory(Directory);
        ca.WriteCertificate(CaFile);
        foreach (var (name, cert, key) in new[] { ("bulwark-server", ServerCertFile, ServerKeyFile), ("bulwark-peer", PeerCertFile, PeerKeyFile), ("root", ClientCertFile, ClientKeyFile) })
        {
            using var leaf = ca.Issue(name, LoopbackHosts);
            LocalCertificateAuthority.WritePair(leaf, cert, key);
        }

        return this;
    }

    /// <summary>The etcdctl flags that use these files.</summary>
    public string EtcdctlFlags => $"--cacert={CaFile} --cert={ClientCertFile} --key={ClientKeyFile}";
}
