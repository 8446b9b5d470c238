using System.CommandLine;

namespace Bulwark.Cli.Commands;

/// <summary>`bulwark availability ...`: Markov availability models and estimation from event logs.</summary>
public static class AvailabilityCommands
{
    public static Command Create()
    {
        var command = new Command("availability", "Predict and measure cluster availability with Markov models.");
        command.Subcommands.Add(AvailabilityClusterCommand.Create());
        command.Subcommands.Add(AvailabilityChainCommands.CreateDiscrete());
        command.Subcommands.Add(AvailabilityChainCommands.CreateContinuous());
        command.Subcommands.Add(AvailabilityEstimateCommand.Create());
        command.Subcommands.Add(AvailabilityPlotCommand.Create());
        return command;
    }
}
