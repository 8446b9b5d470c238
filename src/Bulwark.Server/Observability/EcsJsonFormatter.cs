using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Bulwark.Server.Observability;

/// <summary>
/// JSON lines with Elastic Common Schema field names (@timestamp, log.level, log.logger, event.code, event.action,
/// message, error.*) so Filebeat/Logstash need no renaming; the message template's named values go under "labels",
/// formatted as the message formats them (a hole written {NodeId:x} gives a hex label, as etcd writes member ids).
/// Every line also says who wrote it: service.node.name (the member), host.hostname and process.pid, so the lines of
/// several members (one machine's `cluster up`, or a log pipeline fed by many machines) can be told apart.
/// </summary>
public sealed class EcsJsonFormatter : ConsoleFormatter
{
    public new const string Name = "ecs";

    private const string OriginalFormat = "{OriginalFormat}";

    private readonly string memberName;
    private readonly string hostName = HostName();
    private readonly int processId = Environment.ProcessId;

    public EcsJsonFormatter(IOptionsMonitor<EcsJsonFormatterOptions> options)
        : base(Name)
    {
        ArgumentNullException.ThrowIfNull(options);
        memberName = options.CurrentValue.MemberName;
    }

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

            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> values && values.Any(v => v.Key != OriginalFormat))
            {
                var template = values.FirstOrDefault(v => v.Key == OriginalFormat).Value as string;
                var formats = template is null ? null : MessageTemplateFormats.Of(template);
                json.WriteStartObject("labels");
                foreach (var (key, value) in values.Where(v => v.Key != OriginalFormat))
                {
                    json.WriteString(key, Label(value, formats?.GetValueOrDefault(key)));
                }

                json.WriteEndObject();
            }

            if (memberName.Length > 0)
            {
                json.WriteString("service.node.name", memberName);
            }

            json.WriteString("service.name", "bulwark");
            json.WriteString("host.hostname", hostName);
            json.WriteNumber("process.pid", processId);
            json.WriteString("ecs.version", "8.11.0");
            json.WriteEndObject();
        }

        textWriter.Write(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        textWriter.Write('\n');
    }

    private static string? Label(object? value, string? format) =>
        format is not null && value is IFormattable formattable
            ? formattable.ToString(format, CultureInfo.InvariantCulture)
            : Convert.ToString(value, CultureInfo.InvariantCulture);

    private static string HostName()
    {
        try
        {
            return System.Net.Dns.GetHostName();
        }
        catch (System.Net.Sockets.SocketException)
        {
            return Environment.MachineName;
        }
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
