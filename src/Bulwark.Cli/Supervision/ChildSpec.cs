namespace Bulwark.Cli.Supervision;

/// <summary>A child process to supervise: its display name (output prefix) and its command line.</summary>
public sealed record ChildSpec(string Name, string FileName, IReadOnlyList<string> Arguments)
{
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Whether each line the child writes to stdout is forwarded with "[name] " in front (the default). False for
    /// children whose stdout lines name themselves (JSON log lines with service.node.name), so the forwarded stream
    /// stays one JSON document a line. Stderr lines are always prefixed.
    /// </summary>
    public bool PrefixStandardOutput { get; init; } = true;

    public override string ToString() => $"{FileName} {string.Join(' ', Arguments)}";
}
