namespace Bulwark.Cli.Supervision;

/// <summary>A child process to supervise: its display name (output prefix) and its command line.</summary>
public sealed record ChildSpec(string Name, string FileName, IReadOnlyList<string> Arguments)
{
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    public override string ToString() => $"{FileName} {string.Join(' ', Arguments)}";
}
