using System.Text.Json;

namespace Bulwark.Server.Tests.Observability;

/// <summary>The files in deploy/ are valid for the tools that read them.</summary>
public sealed class DeployFilesTests
{
    private static readonly string Deploy = Path.Combine(RepositoryRoot(), "deploy");

    [Fact]
    public async Task Alert_rules_and_scrape_config_pass_promtool()
    {
        var promtool = ExternalProgram.Require("promtool", "prometheus");
        var rules = await ExternalProgram.RunAsync(promtool, ["check", "rules", Path.Combine(Deploy, "prometheus", "alerts.yml")], TimeSpan.FromSeconds(60));
        Assert.True(rules.Exit == 0, $"promtool check rules failed:\n{rules.Stdout}\n{rules.Stderr}");
        Assert.Contains("SUCCESS: 10 rules found", rules.Stdout, StringComparison.Ordinal);
        var config = await ExternalProgram.RunAsync(promtool, ["check", "config", Path.Combine(Deploy, "prometheus", "prometheus.yml")], TimeSpan.FromSeconds(60));
        Assert.True(config.Exit == 0, $"promtool check config failed:\n{config.Stdout}\n{config.Stderr}");
    }

    [Fact]
    public async Task Every_alert_rule_has_a_promtool_unit_test_and_the_tests_pass()
    {
        var promtool = ExternalProgram.Require("promtool", "prometheus");
        var dir = Path.Combine(Deploy, "prometheus");
        // Every rule is named in an alert_rule_test, so a rule added without a test fails here, not in production.
        var rules = System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(Path.Combine(dir, "alerts.yml")), @"^\s*- alert: (\w+)", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).ToList();
        var tested = System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(Path.Combine(dir, "alerts.test.yml")), @"alertname: (\w+)")
            .Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(10, rules.Count);
        Assert.All(rules, rule => Assert.True(tested.Contains(rule), $"alert {rule} has no test in alerts.test.yml"));
        var result = await ExternalProgram.RunAsync(promtool, ["test", "rules", Path.Combine(dir, "alerts.test.yml")], TimeSpan.FromSeconds(120));
        Assert.True(result.Exit == 0, $"promtool test rules failed:\n{result.Stdout}\n{result.Stderr}");
        Assert.Contains("SUCCESS", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_promtool_unit_tests_fail_when_any_rule_is_broken()
    {
        // Each rule's expression replaced in turn by one that never matches: its test must catch it, so no rule's test
        // passes vacuously (for instance one that only ever expects no alert).
        var promtool = ExternalProgram.Require("promtool", "prometheus");
        var source = Path.Combine(Deploy, "prometheus");
        var rules = await File.ReadAllLinesAsync(Path.Combine(source, "alerts.yml"));
        var dir = Directory.CreateTempSubdirectory("bulwark-rules-").FullName;
        try
        {
            File.Copy(Path.Combine(source, "alerts.test.yml"), Path.Combine(dir, "alerts.test.yml"));
            var broken = 0;
            for (var i = 0; i < rules.Length; i++)
            {
                if (!rules[i].TrimStart().StartsWith("expr:", StringComparison.Ordinal))
                {
                    continue;
                }

                var mutated = (string[])rules.Clone();
                mutated[i] = rules[i][..rules[i].IndexOf("expr:", StringComparison.Ordinal)] + "expr: vector(1) == 0";
                await File.WriteAllLinesAsync(Path.Combine(dir, "alerts.yml"), mutated);
                var result = await ExternalProgram.RunAsync(promtool, ["test", "rules", Path.Combine(dir, "alerts.test.yml")], TimeSpan.FromSeconds(120));
                Assert.True(result.Exit != 0, $"promtool test rules still passes with line {i + 1} ({rules[i].Trim()}) broken");
                broken++;
            }

            Assert.Equal(10, broken);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void The_grafana_dashboard_queries_metrics_the_node_exposes()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Deploy, "grafana", "bulwark-dashboard.json")));
        var expressions = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!).ToList();
        Assert.NotEmpty(expressions);
        var metricsSource = File.ReadAllText(Path.Combine(RepositoryRoot(), "src", "Bulwark.Server", "Observability", "NodeMetrics.cs"));
        foreach (var expression in expressions)
        {
            var names = System.Text.RegularExpressions.Regex.Matches(expression, @"\b(etcd|bulwark|grpc)_[a-z_]+").Select(m => m.Value);
            foreach (var name in names)
            {
                var instrument = System.Text.RegularExpressions.Regex.Replace(name, "_(bucket|sum|count)$", "");
                Assert.True(metricsSource.Contains($"\"{instrument}\"", StringComparison.Ordinal), $"dashboard query '{expression}' uses {name}, which no instrument defines");
            }
        }
    }

    private static string RepositoryRoot()
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
}
