using System.CommandLine;

namespace Bulwark.Cli.Commands;

/// <summary>`bulwark availability ...`: Markov availability models and estimation from event logs.</summary>
public static class AvailabilityCommands
{
    public static Command Create()
    {
        var command = new Command("availability", "Predict and measure cluster availability with Markov models.");
        return command;
    }
}
