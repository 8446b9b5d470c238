using System.CommandLine;
using Bulwark.Cli.Commands;

namespace Bulwark.Cli;

/// <summary>The `bulwark` command. Each area of the product adds its own subcommands from its own file.</summary>
public static class Program
{
    public static Task<int> Main(string[] args) => BuildRoot().Parse(args).InvokeAsync();

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
        return root;
    }
}
