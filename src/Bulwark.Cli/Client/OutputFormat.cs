using System.CommandLine;

namespace Bulwark.Cli.Client;

/// <summary>How a client command prints its answer (<c>-w</c>/<c>--write-out</c>, as etcdctl names it).</summary>
public enum OutputFormat
{
    /// <summary>etcdctl's default lines: keys and values as their raw bytes.</summary>
    Simple,

    /// <summary>One line of JSON shaped like etcdctl's (base64 keys and values, the response header).</summary>
    Json,

    /// <summary>A table with a header row; bytes that are not printable UTF-8 shown as \xNN.</summary>
    Table,
}

/// <summary>The <c>-w</c> and <c>--json</c> options and how the two combine.</summary>
public static class OutputFormatOption
{
    public static Option<string> Create()
    {
        var option = new Option<string>("--write-out", "-w")
        {
            Description = "Output format: simple, json or table.",
            DefaultValueFactory = _ => "simple",
        };
        option.AcceptOnlyFromAmong("simple", "json", "table");
        return option;
    }

    /// <summary>The format chosen by <c>-w</c>, where <c>--json</c> is short for <c>-w json</c>.</summary>
    public static OutputFormat Resolve(string? writeOut, bool json, bool writeOutGiven)
    {
        var format = writeOut switch
        {
            "json" => OutputFormat.Json,
            "table" => OutputFormat.Table,
            _ => OutputFormat.Simple,
        };
        if (json && writeOutGiven && format != OutputFormat.Json)
        {
            throw new ClientInputException("write-out", $"--json and -w {writeOut} ask for different formats; give one");
        }

        return json ? OutputFormat.Json : format;
    }
}
