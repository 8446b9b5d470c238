namespace Bulwark.Chaos;

/// <summary>A flag of `bulwark chaos` with a value it cannot use; the command prints it and exits 2.</summary>
public sealed class ChaosInputException(string option, string message) : Exception($"{option}: {message}")
{
    public string Option { get; } = option;
}
