using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.Server.Configuration;
using Bulwark.Server.Tests.Observability;

namespace Bulwark.EndToEnd.Tests.Deploy;

/// <summary>
/// deploy/systemd: the unit passes `systemd-analyze verify` (systemd is part of the machine: Debian's systemd package),
/// has the restart policy, user, state directory, environment file and hardening operators rely on, and its sample
/// environment file is a configuration `bulwark serve` accepts.
/// </summary>
public sealed class SystemdUnitTests
{
    private static readonly string Unit = Path.Combine(DeployPaths.Systemd, "bulwark.service");

    [Fact]
    public async Task The_unit_passes_systemd_analyze_verify_without_a_warning()
    {
        var (exit, output) = await VerifyAsync(File.ReadAllText(Unit));
        Assert.True(exit == 0 && output.Length == 0, $"systemd-analyze verify (exit {exit}):\n{output}");
    }

    [Fact]
    public async Task Verify_reports_a_misspelt_or_invalid_setting()
    {
        // The check above bites: a misspelt key and a bad value are reported (verify still exits 0 for both).
        var text = File.ReadAllText(Unit);
        var misspelt = await VerifyAsync(text.Replace("ProtectSystem=strict", "ProtectSytem=strict", StringComparison.Ordinal));
        Assert.Contains("Unknown key", misspelt.Output, StringComparison.Ordinal);
        var invalid = await VerifyAsync(text.Replace("ProtectSystem=strict", "ProtectSystem=stricter", StringComparison.Ordinal));
        Assert.Contains("stricter", invalid.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_unit_restarts_on_failure_as_its_own_user_with_its_state_directory_and_hardening()
    {
        var service = Section(File.ReadAllLines(Unit), "Service");
        Assert.Equal("/usr/local/bin/bulwark serve", Single(service, "ExecStart"));
        Assert.Equal("on-failure", Single(service, "Restart"));
        Assert.Equal("bulwark", Single(service, "User"));
        Assert.Equal("bulwark", Single(service, "StateDirectory"));
        Assert.Equal("/etc/bulwark/bulwark.env", Single(service, "EnvironmentFile"));
        Assert.Equal("strict", Single(service, "ProtectSystem"));
        foreach (var key in new[] { "NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups" })
        {
            Assert.True(Single(service, key) == "yes", $"{key} is not yes");
        }

        Assert.Equal("AF_INET AF_INET6 AF_UNIX", Single(service, "RestrictAddressFamilies"));
        Assert.True(int.Parse(Single(service, "LimitNOFILE"), System.Globalization.CultureInfo.InvariantCulture) >= 65536);
        Assert.EndsWith("s", Single(service, "TimeoutStopSec"), StringComparison.Ordinal);
        Assert.Equal("multi-user.target", Single(Section(File.ReadAllLines(Unit), "Install"), "WantedBy"));

        // The user the unit runs as is created by the sysusers.d file shipped beside it.
        var sysusers = File.ReadAllLines(Path.Combine(DeployPaths.Systemd, "bulwark.sysusers")).Where(l => l.StartsWith("u ", StringComparison.Ordinal)).ToList();
        Assert.Equal("bulwark", Assert.Single(sysusers).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
    }

    [Fact]
    public void The_sample_environment_file_is_a_configuration_serve_accepts()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(Path.Combine(DeployPaths.Systemd, "bulwark.env.example")))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            Assert.True(eq > 0, $"not NAME=value: {line}");
            var name = line[..eq];
            Assert.StartsWith("BULWARK_", name, StringComparison.Ordinal);
            var key = name["BULWARK_".Length..].ToLowerInvariant().Replace('_', '-');
            Assert.True(DeployPaths.IsServeSetting(key), $"{name} is no setting of bulwark serve");
            environment[name] = line[(eq + 1)..];
        }

        var options = NodeConfigurationLoader.Load([], environment, _ => throw new InvalidOperationException("no config file"));
        Assert.Equal("n1", options.Name);
        Assert.Equal(3, options.InitialCluster.Count);
        // Inside the unit's StateDirectory, the only place ProtectSystem=strict leaves writable.
        Assert.StartsWith("/var/lib/bulwark/", options.DataDir, StringComparison.Ordinal);
    }

    /// <summary>
    /// Verifies the unit with ExecStart pointed at the real built CLI (verify checks that the program exists and is
    /// executable; /usr/local/bin/bulwark is where an install puts it, not this machine).
    /// </summary>
    private static async Task<(int Exit, string Output)> VerifyAsync(string unitText)
    {
        var analyze = ExternalProgram.Require("systemd-analyze", "systemd");
        var dotnet = ExternalProgram.Require("dotnet", "dotnet-sdk");
        var dir = Directory.CreateTempSubdirectory("bulwark-unit-").FullName;
        try
        {
            var path = Path.Combine(dir, "bulwark.service");
            File.WriteAllText(path, unitText.Replace("ExecStart=/usr/local/bin/bulwark serve", $"ExecStart={dotnet} {ProcessCluster.BulwarkDll} serve", StringComparison.Ordinal));
            var result = await ExternalProgram.RunAsync(analyze, ["verify", path], TimeSpan.FromSeconds(60));
            return (result.Exit, (result.Stdout + result.Stderr).Trim());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static List<(string Key, string Value)> Section(IEnumerable<string> lines, string name)
    {
        var entries = new List<(string, string)>();
        string? current = null;
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (line.StartsWith('['))
            {
                current = line.Trim('[', ']');
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (current == name && eq > 0)
            {
                entries.Add((line[..eq], line[(eq + 1)..]));
            }
        }

        return entries;
    }

    private static string Single(List<(string Key, string Value)> section, string key)
    {
        var values = section.Where(e => e.Key == key).Select(e => e.Value).ToList();
        Assert.True(values.Count == 1, $"{key} is set {values.Count} times in the unit");
        return values[0];
    }
}
