using Bulwark.Server.Hosting;

namespace Bulwark.Cli.Tests.Cli;

/// <summary>
/// Exit codes of the client commands: 2 for input the command refuses before sending anything (parse errors included,
/// in plain words without .NET type names), 1 when the cluster cannot be reached. (0, and 1 for a cluster's error
/// answer, are in Bulwark.EndToEnd.Tests' CliBytesTests.)
/// </summary>
public sealed class ExitCodeTests
{
    [Theory]
    [InlineData(new[] { "get", "k", "--rev", "x" }, "'x' is not a valid value for --rev: expected a whole number.")]
    [InlineData(new[] { "get", "k", "--limit", "1.5" }, "'1.5' is not a valid value for --limit: expected a whole number.")]
    [InlineData(new[] { "put", "k", "v", "--timeout", "soon" }, "'soon' is not a valid value for --timeout: expected a number.")]
    [InlineData(new[] { "availability", "cluster", "--nodes", "three", "--mtbf-hours", "1", "--mttr-hours", "1" }, "'three' is not a valid value for --nodes: expected a whole number.")]
    [InlineData(new[] { "get", "k", "-w", "yaml" }, "Argument 'yaml' not recognized. Must be one of: 'simple' 'json' 'table'")]
    [InlineData(new[] { "put" }, "Required argument missing")]
    [InlineData(new[] { "del", "k", "--nosuchflag", "x", "y" }, "Unrecognized command or argument")]
    public async Task Parse_errors_exit_2_in_plain_words(string[] args, string message)
    {
        var (code, output, error) = await InProcessCli.RunAsync(args);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", error, StringComparison.Ordinal);
        Assert.Contains($"Run 'bulwark {args[0]}", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "put", "--hex", "zz", "00" }, "'z', which is not a hex digit")]
    [InlineData(new[] { "put", "--hex", "6b", "abc" }, "odd number of hex digits")]
    [InlineData(new[] { "get", "" }, "the key is empty")]
    [InlineData(new[] { "get", "k", "--prefix", "--from-key" }, "cannot be set at the same time")]
    [InlineData(new[] { "get", "k", "z", "--prefix" }, "a range end and --prefix cannot be given together")]
    [InlineData(new[] { "get", "k", "--limit", "-1" }, "--limit is -1")]
    [InlineData(new[] { "get", "k", "--sort-by", "SIZE" }, "--sort-by is 'SIZE'")]
    [InlineData(new[] { "get", "k", "--order", "UP" }, "--order is 'UP'")]
    [InlineData(new[] { "get", "k", "--json", "-w", "table" }, "--json and -w table")]
    [InlineData(new[] { "put", "k", "v", "--value-file", "/nonexistent" }, "give one")]
    [InlineData(new[] { "put", "k", "--value-file", "/nonexistent/value" }, "cannot read '/nonexistent/value'")]
    [InlineData(new[] { "put", "k", "--prev-key" }, "'--prev-key' is not an option of put; a value that starts with '-' goes after --")]
    [InlineData(new[] { "get", "k", "--limt", }, "'--limt' is not an option of get")]
    [InlineData(new[] { "del", "-k" }, "'-k' is not an option of del; a key that starts with '-' goes after --")]
    public async Task Bad_input_exits_2_without_contacting_the_cluster(string[] args, string message)
    {
        // An endpoint nobody listens on: had the command tried to call, it would have failed with exit 1.
        var (code, output, error) = await InProcessCli.RunAsync([.. args, "--endpoints", $"127.0.0.1:{LoopbackPorts.Next()}", "--timeout", "5"]);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("put", "k", "v")]
    [InlineData("get", "k")]
    [InlineData("del", "k")]
    [InlineData("txn", "--then", "put k v")]
    public async Task An_unreachable_cluster_exits_1(params string[] args)
    {
        var (code, output, error) = await InProcessCli.RunAsync([.. args, "--endpoints", $"127.0.0.1:{LoopbackPorts.Next()}", "--timeout", "5"]);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.StartsWith("error: no endpoint answered", error, StringComparison.Ordinal);
    }
}
