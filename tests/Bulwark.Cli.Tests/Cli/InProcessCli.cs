using System.CommandLine;

namespace Bulwark.Cli.Tests.Cli;

/// <summary>
/// Runs a `bulwark` command line in this process and captures what it prints. Linked into Bulwark.Server.Tests too
/// (its peer-view tests drive `bulwark status` against in-process clusters).
/// </summary>
internal static class InProcessCli
{
    public static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter { NewLine = "\n" };
        var code = await Program.RunAsync(args, new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }
}
