namespace Bulwark.Server.Configuration;

/// <summary>A setting is missing, malformed or inconsistent. <see cref="Setting"/> names it as a flag would (e.g. "election-timeout").</summary>
public sealed class ConfigurationException(string setting, string message)
    : Exception($"--{setting}: {message}")
{
    public string Setting { get; } = setting;
}
