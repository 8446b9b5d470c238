using System.Collections;
using System.Globalization;
using System.Text.Json;
using Bulwark.Server.Hosting;

namespace Bulwark.Server.Configuration;

/// <summary>
/// Loads <see cref="NodeOptions"/> from three layers, later winning: a JSON file (--config-file or BULWARK_CONFIG_FILE),
/// BULWARK_* environment variables, then command-line flags (--name value or --name=value). Every error is a
/// <see cref="ConfigurationException"/> naming the setting and, for malformed values, where the value came from.
/// </summary>
public static class NodeConfigurationLoader
{
    /// <summary>Loads from the process's real environment and files.</summary>
    public static NodeOptions Load(IReadOnlyList<string> args) =>
        Load(args, ReadEnvironment(), File.ReadAllText);

    /// <param name="args">Flags only (no command name).</param>
    /// <param name="environment">Variables to consult; only BULWARK_* names matter.</param>
    /// <param name="readFile">Reads the config file (a seam for tests).</param>
    public static NodeOptions Load(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment, Func<string, string> readFile)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(readFile);
        var flags = ParseFlags(args);
        var values = new Dictionary<string, SettingValue>(StringComparer.Ordinal);

        var configFile = flags.GetValueOrDefault(NodeSettings.ConfigFile)
            ?? FromEnvironment(environment, NodeSettings.ConfigFile);
        if (configFile is not null)
        {
            foreach (var (key, value) in ParseFile(configFile.Text, readFile))
            {
                values[key] = value;
            }
        }

        foreach (var setting in NodeSettings.All)
        {
            if (setting.Key != NodeSettings.ConfigFile && FromEnvironment(environment, setting.Key) is { } fromEnv)
            {
                values[setting.Key] = fromEnv;
            }
        }

        foreach (var (key, value) in flags)
        {
            if (key != NodeSettings.ConfigFile)
            {
                values[key] = value;
            }
        }

        var options = Build(new SettingReader(values));
        NodeOptionsValidation.Check(options);
        return options;
    }

    private static NodeOptions Build(SettingReader s)
    {
        var name = s.Text(NodeSettings.Name) ?? "default";
        NodeOptionsValidation.CheckName(NodeSettings.Name, name);
        var explicitPeerUrl = s.Text(NodeSettings.ListenPeerUrls) is { } peerText
            ? UrlSetting.Parse(NodeSettings.ListenPeerUrls, peerText, "peer listen URL")
            : null;
        var members = InitialClusterParser.Parse(s.Text(NodeSettings.InitialCluster) ?? $"{name}={explicitPeerUrl ?? "http://127.0.0.1:2380"}");
        var self = members.FirstOrDefault(m => m.Name == name);
        var nodeId = s.Id(NodeSettings.NodeId) ?? self?.Id ?? ClusterMember.IdFromName(name);
        if (self is not null && self.Id != nodeId)
        {
            members = members.Select(m => m == self ? m with { Id = nodeId } : m).ToList();
        }

        var clientUrls = UrlSetting.ParseList(NodeSettings.ListenClientUrls, s.Text(NodeSettings.ListenClientUrls) ?? "http://127.0.0.1:2379", "client listen URL");
        var advertised = s.Text(NodeSettings.AdvertiseClientUrls) is { } adv
            ? UrlSetting.ParseList(NodeSettings.AdvertiseClientUrls, adv, "advertised client URL")
            : clientUrls;
        return new NodeOptions
        {
            Name = name,
            NodeId = nodeId,
            InitialCluster = members,
            DataDir = s.Text(NodeSettings.DataDir) ?? Path.Combine("bulwark-data", name),
            InitialClusterState = s.Text(NodeSettings.InitialClusterState)?.ToLowerInvariant() switch
            {
                null or "new" => InitialClusterState.New,
                "existing" => InitialClusterState.Existing,
                var other => throw new ConfigurationException(NodeSettings.InitialClusterState, $"'{other}' is neither 'new' nor 'existing'"),
            },
            ListenClientUrls = clientUrls,
            AdvertiseClientUrls = advertised,
            ListenPeerUrl = explicitPeerUrl ?? self?.PeerUrls[0] ?? "http://127.0.0.1:2380",
            ListenMetricsUrl = UrlSetting.Parse(NodeSettings.ListenMetricsUrls, s.Text(NodeSettings.ListenMetricsUrls) ?? "http://127.0.0.1:2381", "metrics listen URL", httpsAllowed: false),
            HeartbeatInterval = s.Milliseconds(NodeSettings.HeartbeatInterval) ?? TimeSpan.FromMilliseconds(50),
            ElectionTimeout = s.Milliseconds(NodeSettings.ElectionTimeout) ?? TimeSpan.FromMilliseconds(500),
            SnapshotCount = s.Unsigned(NodeSettings.SnapshotCount) ?? Hosting.NodeHostOptions.DefaultSnapshotThreshold,
            SnapshotCatchUpEntries = s.Unsigned(NodeSettings.SnapshotCatchUpEntries) ?? Hosting.NodeHostOptions.DefaultSnapshotCatchUpEntries,
            SnapshotChunkBytes = s.Int(NodeSettings.SnapshotChunkBytes) ?? Transport.PeerTransportOptions.DefaultSnapshotChunkBytes,
            MaxRequestBytes = s.Int(NodeSettings.MaxRequestBytes) ?? Kv.KvLimits.DefaultMaxRequestBytes,
            MaxTxnOps = s.Int(NodeSettings.MaxTxnOps) ?? Kv.KvLimits.DefaultMaxTxnOps,
            RequestTimeout = s.Milliseconds(NodeSettings.RequestTimeout) ?? TimeSpan.FromSeconds(5),
            WatchProgressNotifyInterval = s.Milliseconds(NodeSettings.WatchProgressNotifyInterval) ?? Hosting.NodeHostOptions.DefaultWatchProgressNotifyInterval,
            PreVote = s.Bool(NodeSettings.PreVote) ?? true,
            CheckQuorum = s.Bool(NodeSettings.CheckQuorum) ?? true,
            CorruptCheckTime = s.Duration(NodeSettings.CorruptCheckTime) ?? TimeSpan.Zero,
            UnsafeFaultInjection = s.Bool(NodeSettings.UnsafeFaultInjection) ?? false,
            GrayFailure = s.Bool(NodeSettings.GrayFailure) ?? true,
            ClientTls = TlsOf(s, NodeSettings.CertFile, NodeSettings.KeyFile, NodeSettings.TrustedCaFile, NodeSettings.ClientCertAuth),
            PeerTls = TlsOf(s, NodeSettings.PeerCertFile, NodeSettings.PeerKeyFile, NodeSettings.PeerTrustedCaFile, NodeSettings.PeerClientCertAuth),
            AuthToken = s.Text(NodeSettings.AuthToken) is { } authToken ? AuthTokenSetting.Parse(authToken) : null,
        };
    }

    /// <summary>One listener's TLS files; null when neither a certificate nor a key is given (the other settings then
    /// have nothing to apply to, which <see cref="NodeOptionsValidation"/> reports).</summary>
    private static Security.TlsFiles? TlsOf(SettingReader s, string certKey, string keyKey, string caKey, string authKey)
    {
        var cert = s.Text(certKey);
        var key = s.Text(keyKey);
        var ca = s.Text(caKey);
        var clientCertAuth = s.Bool(authKey) ?? false;
        if (cert is null && key is null)
        {
            if (ca is not null || clientCertAuth)
            {
                throw new ConfigurationException(ca is not null ? caKey : authKey, $"needs --{certKey} and --{keyKey} (this listener has no certificate of its own)");
            }

            return null;
        }

        if (string.IsNullOrEmpty(cert) || string.IsNullOrEmpty(key))
        {
            throw new ConfigurationException(cert is null ? certKey : keyKey, $"--{certKey} and --{keyKey} go together; only one is given");
        }

        if (clientCertAuth && ca is null)
        {
            throw new ConfigurationException(authKey, $"needs --{caKey}: the CA that connecting certificates must chain to");
        }

        return new Security.TlsFiles(cert, key, string.IsNullOrEmpty(ca) ? null : ca, clientCertAuth);
    }

    private static Dictionary<string, SettingValue> ParseFlags(IReadOnlyList<string> args)
    {
        var flags = new Dictionary<string, SettingValue>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                throw new ConfigurationException(arg.TrimStart('-'), $"unexpected argument '{arg}'; settings are given as --name value or --name=value");
            }

            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var key = eq < 0 ? arg[2..] : arg[2..eq];
            var setting = NodeSettings.Find(key)
                ?? throw new ConfigurationException(key, $"unknown flag; known flags: {string.Join(' ', NodeSettings.All.Select(s => s.Flag))}");
            string value;
            if (eq >= 0)
            {
                value = arg[(eq + 1)..];
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            else if (setting.Key is NodeSettings.PreVote or NodeSettings.CheckQuorum or NodeSettings.UnsafeFaultInjection or NodeSettings.ClientCertAuth or NodeSettings.PeerClientCertAuth)
            {
                value = "true"; // a bare boolean flag switches it on
            }
            else
            {
                throw new ConfigurationException(key, "needs a value");
            }

            flags[setting.Key] = new SettingValue(value, $"flag {setting.Flag}");
        }

        return flags;
    }

    private static IEnumerable<KeyValuePair<string, SettingValue>> ParseFile(string path, Func<string, string> readFile)
    {
        string json;
        try
        {
            json = readFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ConfigurationException(NodeSettings.ConfigFile, $"cannot read '{path}': {e.Message}");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ConfigurationException(NodeSettings.ConfigFile, $"'{path}' is not valid JSON: {e.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ConfigurationException(NodeSettings.ConfigFile, $"'{path}' must hold a JSON object of settings");
            }

            var result = new List<KeyValuePair<string, SettingValue>>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var setting = NodeSettings.Find(property.Name);
                if (setting is null || setting.Key == NodeSettings.ConfigFile)
                {
                    throw new ConfigurationException(NodeSettings.ConfigFile, $"'{path}' has unknown setting \"{property.Name}\"");
                }

                var text = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString()!,
                    JsonValueKind.Number => property.Value.GetRawText(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    JsonValueKind.Array when property.Value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) =>
                        string.Join(',', property.Value.EnumerateArray().Select(e => e.GetString())),
                    _ => throw new ConfigurationException(setting.Key, $"in '{path}' must be a string, number, boolean or list of strings"),
                };
                result.Add(new(setting.Key, new SettingValue(text, $"config file '{path}'")));
            }

            return result;
        }
    }

    private static SettingValue? FromEnvironment(IReadOnlyDictionary<string, string> environment, string key)
    {
        var variable = NodeSettings.Find(key)!.EnvironmentVariable;
        return environment.TryGetValue(variable, out var value) ? new SettingValue(value, $"environment variable {variable}") : null;
    }

    private static Dictionary<string, string> ReadEnvironment()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string key && key.StartsWith("BULWARK_", StringComparison.Ordinal) && entry.Value is string value)
            {
                result[key] = value;
            }
        }

        return result;
    }

    private sealed record SettingValue(string Text, string Source);

    /// <summary>Typed access to the merged values; a malformed value names the setting and its source.</summary>
    private sealed class SettingReader(IReadOnlyDictionary<string, SettingValue> values)
    {
        public string? Text(string key) => values.TryGetValue(key, out var v) ? v.Text.Trim() : null;

        public TimeSpan? Milliseconds(string key) => Int(key) is { } ms ? TimeSpan.FromMilliseconds(ms) : null;

        /// <summary>A Go-style duration as etcd takes it ("500ms", "30s", "5m", "1h30m"), or a bare number of ms.</summary>
        public TimeSpan? Duration(string key) => Parse(key, "a duration such as 500ms, 30s or 5m (or a whole number of ms)", DurationSyntax.TryParse);

        public int? Int(string key) => Parse(key, "a whole number", t => (int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var v), v));

        public ulong? Unsigned(string key) => Parse(key, "a whole number", t => (ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var v), v));

        public ulong? Id(string key) => Parse(key, "a decimal or 0x-hex id", t =>
            t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? (ulong.TryParse(t[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var h), h)
                : (ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var d), d));

        public bool? Bool(string key) => Parse(key, "true or false", t => t.ToLowerInvariant() switch
        {
            "true" or "1" or "yes" or "on" => (true, true),
            "false" or "0" or "no" or "off" => (true, false),
            _ => (false, false),
        });

        private T? Parse<T>(string key, string expected, Func<string, (bool Ok, T Value)> parse)
            where T : struct
        {
            if (!values.TryGetValue(key, out var raw))
            {
                return null;
            }

            var (ok, value) = parse(raw.Text.Trim());
            return ok ? value : throw new ConfigurationException(key, $"'{raw.Text}' from {raw.Source} is not {expected}");
        }
    }
}
