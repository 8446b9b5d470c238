namespace Bulwark.Server.Configuration;

/// <summary>Checks that span settings, each failing with a <see cref="ConfigurationException"/> that names the setting.</summary>
internal static class NodeOptionsValidation
{
    /// <summary>Below this ratio a follower may time out between two heartbeats that are merely a little late.</summary>
    public const int MinElectionToHeartbeatRatio = 5;

    public const int MaxRequestBytesLimit = 8 << 20;

    public static void CheckName(string setting, string name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ConfigurationException(setting, "member name is empty");
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                throw new ConfigurationException(setting, $"member name '{name}' may only hold letters, digits, '-', '_' and '.'");
            }
        }
    }

    public static void Check(NodeOptions o)
    {
        if (o.NodeId == 0)
        {
            throw new ConfigurationException(NodeSettings.NodeId, "must be non-zero");
        }

        if (o.InitialCluster.All(m => m.Name != o.Name))
        {
            throw new ConfigurationException(NodeSettings.InitialCluster,
                $"does not name this member '{o.Name}' (members: {string.Join(", ", o.InitialCluster.Select(m => m.Name))})");
        }

        var ids = new Dictionary<ulong, string>();
        foreach (var member in o.InitialCluster)
        {
            if (!ids.TryAdd(member.Id, member.Name))
            {
                throw new ConfigurationException(NodeSettings.NodeId, $"id {member.Id:x16} of '{member.Name}' is also the id of '{ids[member.Id]}'");
            }
        }

        if (string.IsNullOrWhiteSpace(o.DataDir))
        {
            throw new ConfigurationException(NodeSettings.DataDir, "is empty");
        }

        if (o.HeartbeatInterval <= TimeSpan.Zero)
        {
            throw new ConfigurationException(NodeSettings.HeartbeatInterval, "must be positive");
        }

        if (o.ElectionTimeout < MinElectionToHeartbeatRatio * o.HeartbeatInterval)
        {
            throw new ConfigurationException(NodeSettings.ElectionTimeout,
                $"{o.ElectionTimeout.TotalMilliseconds} ms must be at least {MinElectionToHeartbeatRatio}x the heartbeat interval ({o.HeartbeatInterval.TotalMilliseconds} ms)");
        }

        if (o.ElectionTimeout > TimeSpan.FromSeconds(50))
        {
            throw new ConfigurationException(NodeSettings.ElectionTimeout, $"{o.ElectionTimeout.TotalMilliseconds} ms is over the 50000 ms maximum");
        }

        if (o.SnapshotCount == 0)
        {
            throw new ConfigurationException(NodeSettings.SnapshotCount, "must be positive");
        }

        if (o.SnapshotChunkBytes is < Hosting.NodeHostOptions.MinSnapshotChunkBytes or > Hosting.NodeHostOptions.MaxSnapshotChunkBytes)
        {
            throw new ConfigurationException(NodeSettings.SnapshotChunkBytes,
                $"{o.SnapshotChunkBytes} is outside {Hosting.NodeHostOptions.MinSnapshotChunkBytes}..{Hosting.NodeHostOptions.MaxSnapshotChunkBytes}");
        }

        if (o.MaxRequestBytes <= 0 || o.MaxRequestBytes > MaxRequestBytesLimit)
        {
            throw new ConfigurationException(NodeSettings.MaxRequestBytes, $"{o.MaxRequestBytes} is outside 1..{MaxRequestBytesLimit}");
        }

        if (o.MaxTxnOps <= 0)
        {
            throw new ConfigurationException(NodeSettings.MaxTxnOps, "must be positive");
        }

        if (o.WatchProgressNotifyInterval <= TimeSpan.Zero)
        {
            throw new ConfigurationException(NodeSettings.WatchProgressNotifyInterval, "must be positive");
        }

        if (o.RequestTimeout <= TimeSpan.Zero)
        {
            throw new ConfigurationException(NodeSettings.RequestTimeout, "must be positive");
        }

        CheckDistinctListeners(o);
        CheckTls(o);
        if (o.AuthToken is { } jwt)
        {
            // Read the keys now, so a wrong file or method fails the start rather than the first login.
            using var _ = Security.JwtKeyFiles.Load(jwt);
        }
    }

    /// <summary>
    /// An https URL needs a certificate and a certificate an https URL; every member's peer URL uses one scheme (peers
    /// dial each other with TLS or without, not both); and the files load (present, readable, PEM, key matching
    /// certificate), so a broken rotation setup fails at start rather than at the first connection.
    /// </summary>
    private static void CheckTls(NodeOptions o)
    {
        var httpsClient = o.ListenClientUrls.Concat(o.AdvertiseClientUrls).FirstOrDefault(IsHttps);
        if (httpsClient is not null && o.ClientTls is null)
        {
            throw new ConfigurationException(NodeSettings.CertFile, $"client URL {httpsClient} is https, so --{NodeSettings.CertFile} and --{NodeSettings.KeyFile} are required");
        }

        if (o.ClientTls is not null && !o.ListenClientUrls.Any(IsHttps))
        {
            throw new ConfigurationException(NodeSettings.ListenClientUrls, $"--{NodeSettings.CertFile} is set but no client URL is https ({string.Join(",", o.ListenClientUrls)}); use https:// URLs");
        }

        var ownPeerUrl = o.ListenPeerUrl;
        if (IsHttps(ownPeerUrl) && o.PeerTls is null)
        {
            throw new ConfigurationException(NodeSettings.PeerCertFile, $"peer URL {ownPeerUrl} is https, so --{NodeSettings.PeerCertFile} and --{NodeSettings.PeerKeyFile} are required");
        }

        if (o.PeerTls is not null && !IsHttps(ownPeerUrl))
        {
            throw new ConfigurationException(NodeSettings.ListenPeerUrls, $"--{NodeSettings.PeerCertFile} is set but the peer URL {ownPeerUrl} is http; use https://");
        }

        foreach (var member in o.InitialCluster)
        {
            if (IsHttps(member.PeerUrls[0]) != IsHttps(ownPeerUrl))
            {
                throw new ConfigurationException(NodeSettings.InitialCluster,
                    $"peer URL {member.PeerUrls[0]} of '{member.Name}' and this member's {ownPeerUrl} differ in scheme; all peers speak TLS or none does");
            }
        }

        if (o.ClientTls is { } client)
        {
            CheckFiles(client, NodeSettings.CertFile, NodeSettings.KeyFile, NodeSettings.TrustedCaFile);
        }

        if (o.PeerTls is { } peer)
        {
            CheckFiles(peer, NodeSettings.PeerCertFile, NodeSettings.PeerKeyFile, NodeSettings.PeerTrustedCaFile);
        }
    }

    private static void CheckFiles(Security.TlsFiles files, string certKey, string keyKey, string caKey)
    {
        if (!File.Exists(files.CertFile) && !Directory.Exists(files.CertFile))
        {
            throw new ConfigurationException(certKey, $"certificate file '{files.CertFile}' does not exist");
        }

        if (!File.Exists(files.KeyFile) && !Directory.Exists(files.KeyFile))
        {
            throw new ConfigurationException(keyKey, $"key file '{files.KeyFile}' does not exist");
        }

        if (files.TrustedCaFile is { } ca && !File.Exists(ca))
        {
            throw new ConfigurationException(caKey, $"trusted CA file '{ca}' does not exist");
        }

        try
        {
            using var pair = Security.CertificateFiles.LoadPair(files.CertFile, files.KeyFile);
        }
        catch (Security.CertificateFileException e)
        {
            throw new ConfigurationException(e.Message.StartsWith("key file", StringComparison.Ordinal) || e.Message.StartsWith("cannot read key", StringComparison.Ordinal) ? keyKey : certKey, e.Message);
        }

        if (files.TrustedCaFile is not null)
        {
            try
            {
                Security.CertificateFiles.LoadBundle(files.TrustedCaFile);
            }
            catch (Security.CertificateFileException e)
            {
                throw new ConfigurationException(caKey, e.Message);
            }
        }
    }

    private static bool IsHttps(string url) => url.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    private static void CheckDistinctListeners(NodeOptions o)
    {
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var listeners = o.ListenClientUrls.Select(u => (NodeSettings.ListenClientUrls, u))
            .Append((NodeSettings.ListenPeerUrls, o.ListenPeerUrl))
            .Append((NodeSettings.ListenMetricsUrls, o.ListenMetricsUrl));
        foreach (var (setting, url) in listeners)
        {
            var authority = new Uri(url).Authority;
            if (!seen.TryAdd(authority, setting))
            {
                throw new ConfigurationException(setting, $"{url} is also used by --{seen[authority]}; each listener needs its own port");
            }
        }
    }
}
