using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Bulwark.Server.Observability;

/// <summary>
/// JSON lines with Elastic Common Schema field names (@timestamp, log.level, log.logger, event.code, event.action,
/// message, error.*) so Filebeat/Logstash need no renaming; the message template's named values go under "labels".
/// </summary>
public sealed class EcsJsonFormatter() : ConsoleFormatter(Name)
{
    public new const string Name = "ecs";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        ArgumentNullException.ThrowIfNull(textWriter);
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("@timestamp", DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            json.WriteString("log.level", LevelName(logEntry.LogLevel));
            json.WriteString("log.logger", logEntry.Category);
            if (logEntry.EventId.Id != 0)
            {
                json.WriteString("event.code", logEntry.EventId.Id.ToString(CultureInfo.InvariantCulture));
            }

            if (!string.IsNullOrEmpty(logEntry.EventId.Name))
            {
                json.WriteString("event.action", logEntry.EventId.Name);
            }

            json.WriteString("message", message ?? string.Empty);
            if (logEntry.Exception is { } error)
            {
                json.WriteString("error.type", error.GetType().FullName);
                json.WriteString("error.message", error.Message);
                json.WriteString("error.stack_trace", error.ToString());
            }

            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> values && values.Any(v => v.Key != "{OriginalFormat}"))
            {
                json.WriteStartObject("labels");
                foreach (var (key, value) in values.Where(v => v.Key != "{OriginalFormat}"))
                {
                    json.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
                }

                json.WriteEndObject();
            }

            json.WriteString("ecs.version", "8.11.0");
            json.WriteEndObject();
        }

        textWriter.Write(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        textWriter.Write('\n');
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        LogLevel.Critical => "critical",
        _ => "none",
    };
}
