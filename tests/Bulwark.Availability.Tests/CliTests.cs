using System.CommandLine;
using System.Text.Json;
using Bulwark.Availability.Tests.Exact;
using Bulwark.Cli.Commands;

namespace Bulwark.Availability.Tests;

/// <summary>The `bulwark availability` commands run in-process with their output captured.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("bulwark-availability-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static async Task<(int Code, string Output, string Error)> Run(params string[] args)
    {
        var root = new RootCommand("test root");
        root.Subcommands.Add(AvailabilityCommands.Create());
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await root.Parse(["availability", .. args]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Cluster_prints_a_table()
    {
        var (code, output, error) = await Run("cluster", "--nodes", "3", "--mtbf-hours", "1000", "--mttr-hours", "1");
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Contains("Cluster availability", output, StringComparison.Ordinal);
        Assert.Matches(@"availability\s+0\.999997007985", output);
        Assert.Matches(@"unavailability\s+2\.992015e-06", output);
        Assert.Matches(@"MTTF from all up\s+167,500 h", output);
    }

    [Fact]
    public async Task Cluster_json_carries_the_figures()
    {
        var (code, output, _) = await Run("cluster", "-n", "3", "--failure-rate", "0.001", "--repair-rate", "1", "--shared-repair", "--at-hours", "1", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var result = doc.RootElement.GetProperty("result");
        var rho = Rational.Of(1, 1000);
        var exactU = (6 * rho.Pow(2) + 6 * rho.Pow(3)) / (1 + 3 * rho + 6 * rho.Pow(2) + 6 * rho.Pow(3));
        Close.Relative(exactU.ToDouble(), result.GetProperty("unavailability").GetDouble(), 1e-12);
        Close.Relative(167_500, result.GetProperty("meanTimeToFailureHours").GetDouble(), 1e-12);
        Assert.Equal(1, doc.RootElement.GetProperty("model").GetProperty("repairCrews").GetInt32());
        Assert.Equal(1, doc.RootElement.GetProperty("pointAvailability")[0].GetProperty("hours").GetDouble());
    }

    [Fact]
    public async Task Dtmc_two_state_json()
    {
        var (code, output, _) = await Run("dtmc", "--p01", "0.01", "--p10", "0.5", "--steps", "3", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        Close.Relative(50.0 / 51, doc.RootElement.GetProperty("twoState").GetProperty("steadyStateAvailability").GetDouble(), 1e-15);
        var d = doc.RootElement.GetProperty("distributions");
        Close.Relative(0.982699, d[2].GetProperty("distribution")[0].GetDouble(), 1e-14);
    }

    [Fact]
    public async Task Ctmc_table()
    {
        var (code, output, _) = await Run("ctmc", "--generator", "-0.001,0.001;1,-1", "--up", "0", "--at-hours", "1");
        Assert.Equal(0, code);
        Assert.Contains("A = 0.999368143602", output, StringComparison.Ordinal);
        Assert.Contains("1,000 h", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Estimate_from_a_log()
    {
        string log = Path.Combine(dir, "events.jsonl");
        await File.WriteAllTextAsync(log, EstimationTests.SampleLog);
        var (code, output, _) = await Run("estimate", "--log", log);
        Assert.Equal(0, code);
        Assert.Contains("measured availability", output, StringComparison.Ordinal);
        Assert.Contains("Verdict: Consistent", output, StringComparison.Ordinal);

        (code, output, _) = await Run("estimate", "--log", log, "--json", "--confidence", "0.95");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("consistent", doc.RootElement.GetProperty("verdict").GetString());
        Close.Relative(3 / 715.5, doc.RootElement.GetProperty("failureRate").GetProperty("rate").GetDouble(), 1e-12);
        Assert.Equal(1, doc.RootElement.GetProperty("observed").GetProperty("quorumLosses").GetInt32());
    }

    [Fact]
    public async Task Plot_writes_png_and_svg()
    {
        string stem = Path.Combine(dir, "nodes");
        var (code, output, error) = await Run("plot", "nodes", "--mtbf-hours", "1000", "--mttr-hours", "1", "--max-nodes", "5", "--out", stem);
        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Contains("nodes.png", output, StringComparison.Ordinal);
        await AssertPlot(stem);
    }

    [Fact]
    public async Task Plot_all_writes_four_charts_into_a_directory()
    {
        string dir = Path.Combine(this.dir, "charts");
        var (code, _, error) = await Run("plot", "all", "--mtbf-hours", "2000", "--mttr-hours", "2", "--failover-seconds", "10", "--coverage", "0.999", "--max-nodes", "5", "--out", dir);
        Assert.Equal(0, code);
        Assert.Equal("", error);
        foreach (var name in new[] { "transient", "nodes", "mttr", "failover" })
        {
            await AssertPlot(Path.Combine(dir, $"availability-{name}"));
        }
    }

    private static async Task AssertPlot(string stem)
    {
        var png = await File.ReadAllBytesAsync(stem + ".png");
        Assert.True(png.Length > 5000, $"{stem}.png is only {png.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.Contains("<svg", await File.ReadAllTextAsync(stem + ".svg"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "cluster", "--nodes", "3", "--quorum", "4", "--mtbf-hours", "1000", "--mttr-hours", "1" }, "[quorum]")]
    [InlineData(new[] { "cluster", "--nodes", "0", "--mtbf-hours", "1000", "--mttr-hours", "1" }, "[nodes]")]
    [InlineData(new[] { "cluster", "--failure-rate", "-0.001", "--mttr-hours", "1" }, "[failure-rate]")]
    [InlineData(new[] { "cluster", "--mtbf-hours", "1000" }, "[mttr-hours]")]
    [InlineData(new[] { "cluster", "--mtbf-hours", "1000", "--mttr-hours", "1", "--beta", "1.5" }, "[beta]")]
    [InlineData(new[] { "cluster", "--mtbf-hours", "1000", "--mttr-hours", "1", "--failover-seconds", "5", "--coverage", "2" }, "[coverage]")]
    [InlineData(new[] { "dtmc", "--matrix", "0.9,0.1;0.5,0.4" }, "[matrix[1]]")]
    [InlineData(new[] { "dtmc", "--matrix", "0.9,x;0.5,0.5" }, "[matrix[0,1]]")]
    [InlineData(new[] { "ctmc", "--generator", "-1,1;1,-2" }, "[generator[1]]")]
    public async Task Bad_input_is_an_error_naming_the_field(string[] args, string field)
    {
        var (code, output, error) = await Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Contains(field, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_log_error_gives_the_line()
    {
        string log = Path.Combine(dir, "bad.jsonl");
        await File.WriteAllTextAsync(log, "{\"ts\":\"2026-01-01T00:00:00Z\",\"event\":\"node_down\",\"node\":\"a\"}\nnot json\n");
        var (code, _, error) = await Run("estimate", "--log", log);
        Assert.Equal(2, code);
        Assert.Contains("line 2: not valid JSON", error, StringComparison.Ordinal);
        (code, _, error) = await Run("estimate", "--log", Path.Combine(dir, "missing.jsonl"));
        Assert.Equal(2, code);
        Assert.Contains("does not exist", error, StringComparison.Ordinal);
    }
}
