using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Bulwark.Server.Observability;

/// <summary>
/// `--log-format json|text` (or BULWARK_LOG_FORMAT): JSON lines with ECS field names (the default, for log pipelines
/// and for `cluster up`'s members) or one readable line per event (on request, for people at a terminal).
/// </summary>
public static class LogFormatOption
{
    public const string Flag = "--log-format";

    /// <summary>Removes --log-format VALUE (or --log-format=VALUE) from <paramref name="args"/>; returns the rest and whether text was chosen.</summary>
    /// <exception cref="Configuration.ConfigurationException">The value is neither json nor text, or is missing.</exception>
    public static (IReadOnlyList<string> Remaining, bool Text) Extract(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var rest = new List<string>(args.Count);
        string? value = null;
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == Flag)
            {
                if (i + 1 >= args.Count)
                {
                    throw new Configuration.ConfigurationException("log-format", "needs a value: json or text");
                }

                value = args[++i];
            }
            else if (args[i].StartsWith(Flag + "=", StringComparison.Ordinal))
            {
                value = args[i][(Flag.Length + 1)..];
            }
            else
            {
                rest.Add(args[i]);
            }
        }

        // The flag wins; BULWARK_LOG_FORMAT lets a supervisor choose without changing the serve arguments.
        value ??= Environment.GetEnvironmentVariable("BULWARK_LOG_FORMAT") is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
        return value switch
        {
            null or "json" => (rest, false),
            "text" => (rest, true),
            _ => throw new Configuration.ConfigurationException("log-format", $"is '{value}'; expected json or text"),
        };
    }

    /// <param name="memberName">The member's name, on every JSON line as service.node.name.</param>
    public static void Configure(ILoggingBuilder logging, bool text, string memberName)
    {
        ArgumentNullException.ThrowIfNull(logging);
        ArgumentNullException.ThrowIfNull(memberName);
        logging.ClearProviders();
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("Grpc", LogLevel.Warning);
        if (text)
        {
            logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.UseUtcTimestamp = true;
                console.TimestampFormat = "HH:mm:ss.fff ";
            });
        }
        else
        {
            logging.AddConsole(console => console.FormatterName = EcsJsonFormatter.Name);
            logging.AddConsoleFormatter<EcsJsonFormatter, EcsJsonFormatterOptions>(options => options.MemberName = memberName);
        }
    }
}
