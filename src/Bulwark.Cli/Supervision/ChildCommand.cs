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

    /// <summary>One <see cref="ChildSpec"/> per member, each running `bulwark serve` with its settings.</summary>
    public static IReadOnlyList<ChildSpec> ServeChildren(ClusterLayout layout)
    {
        var (fileName, prefix) = ForThisProgram();
        // A person watches these members in one terminal: readable lines, not JSON (serve honours BULWARK_LOG_FORMAT).
        var readableLogs = new Dictionary<string, string> { ["BULWARK_LOG_FORMAT"] = "text" };
        return layout.Members
            .Select(m => new ChildSpec(m.Name, fileName, [.. prefix, .. layout.ServeArguments(m)]) { Environment = readableLogs })
            .ToList();
    }
}
