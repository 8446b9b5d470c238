namespace Bulwark.Cli.Client;

/// <summary>Bad input to a client command (`bulwark put/get/del/txn/status`), naming the argument at fault.</summary>
public sealed class ClientInputException(string argument, string reason) : Exception($"{reason} [{argument}]")
{
    public string Argument { get; } = argument;

    public string Reason { get; } = reason;
}
