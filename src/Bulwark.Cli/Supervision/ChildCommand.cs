namespace Bulwark.Cli.Supervision;

/// <summary>How to start this same `bulwark` program as a child, whether it runs as an apphost or as `dotnet bulwark.dll`.</summary>
public static class ChildCommand
{
    public static (string FileName, IReadOnlyList<string> PrefixArguments) ForThisProgram()
    {
        var processPath = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which executable is running");
        var host = Path.GetFileNameWithoutExtension(processPath);
        if (string.Equals(host, "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            var assembly = typeof(ChildCommand).Assembly.Location;
            return (processPath, [assembly]);
        }

        return (processPath, []);
    }

    /// <summary>
    /// One <see cref="ChildSpec"/> per member, each running `bulwark serve` with its settings and logging JSON lines
    /// (the default, as a member started by hand does; each line names its member, so it is forwarded as is) or, with
    /// <paramref name="textLogs"/>, readable lines forwarded with "[name] " in front. The format is passed through
    /// BULWARK_LOG_FORMAT, which serve honours, so a value inherited from the caller's environment cannot override it.
    /// </summary>
    public static IReadOnlyList<ChildSpec> ServeChildren(ClusterLayout layout, bool textLogs = false)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var (fileName, prefix) = ForThisProgram();
        var logFormat = new Dictionary<string, string> { ["BULWARK_LOG_FORMAT"] = textLogs ? "text" : "json" };
        return layout.Members
            .Select(m => new ChildSpec(m.Name, fileName, [.. prefix, .. layout.ServeArguments(m)])
            {
                Environment = logFormat,
                PrefixStandardOutput = textLogs,
            })
            .ToList();
    }
}
