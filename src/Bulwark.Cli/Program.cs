using System.CommandLine;
using System.CommandLine.Invocation;
using Bulwark.Cli.Commands;

namespace Bulwark.Cli;

/// <summary>The `bulwark` command. Each area of the product adds its own subcommands from its own file.</summary>
public static class Program
{
    /// <summary>Exit code for input the command line could not parse, the same as the commands' own bad input.</summary>
    public const int ExitBadInput = 2;

    public static Task<int> Main(string[] args) => RunAsync(Client.RawArguments.Recover(args));

    /// <summary>
    /// Parses and runs a command line. Parse errors (unknown options, a value of the wrong kind, a missing argument)
    /// are bad input: each is printed in plain words, then where to find usage, and the exit code is 2, not
    /// System.CommandLine's 1, which the client commands use for a failure of the cluster.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, InvocationConfiguration? configuration = null)
    {
        var parse = BuildRoot().Parse(args);
        configuration ??= new InvocationConfiguration();
        if (parse.Action is ParseErrorAction && parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await configuration.Error.WriteLineAsync($"error: {ParseErrors.InPlainWords(error.Message)}").ConfigureAwait(false);
            }

            await configuration.Error.WriteLineAsync($"Run '{ParseErrors.CommandPath(parse)} --help' for usage.").ConfigureAwait(false);
            return ExitBadInput;
        }

        return await parse.InvokeAsync(configuration).ConfigureAwait(false);
    }

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("Bulwark: a fault-tolerant replicated key-value service speaking the etcd v3 API.");
        root.Subcommands.Add(AvailabilityCommands.Create());
        root.Subcommands.Add(ClusterCommands.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(KvCommands.Put());
        root.Subcommands.Add(KvCommands.Get());
        root.Subcommands.Add(KvCommands.Del());
        root.Subcommands.Add(KvCommands.Txn());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(SnapshotCommands.Create());
        root.Subcommands.Add(ChaosCommand.Create());
        return root;
    }
}
