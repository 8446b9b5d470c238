using System.Net;
using System.Reflection;
using System.Text.Json;
using Bulwark.Server.Hosting;
using Bulwark.Server.Observability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bulwark.Server.Tests.Observability;

/// <summary>
/// The JSON log line: ECS fields, who wrote it (member, host, pid), and ids in hex in the labels as in the message.
/// The last test keeps every log template honest: an id parameter must be formatted as hex.
/// </summary>
public sealed class EcsJsonFormatterTests
{
    private const ulong NodeId = 0x8e9e05c52164694d;
    private const ulong ClusterId = 0x0cdf818194e3a8c3;

    [Fact]
    public void A_line_names_member_host_and_pid_and_writes_ids_in_hex_as_the_message_does()
    {
        var line = WriteOne(logger => HostLog.Started(logger, NodeId, "n1", ClusterId, 3, 10, 0, 10, true));

        Assert.DoesNotContain('\n', line.TrimEnd('\n'));
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal("n1", root.GetProperty("service.node.name").GetString());
        Assert.Equal("bulwark", root.GetProperty("service.name").GetString());
        Assert.Equal(Dns.GetHostName(), root.GetProperty("host.hostname").GetString());
        Assert.Equal(Environment.ProcessId, root.GetProperty("process.pid").GetInt32());
        Assert.Equal("info", root.GetProperty("log.level").GetString());
        Assert.Equal("1000", root.GetProperty("event.code").GetString());
        var labels = root.GetProperty("labels");
        Assert.Equal("8e9e05c52164694d", labels.GetProperty("NodeId").GetString());
        Assert.Equal("cdf818194e3a8c3", labels.GetProperty("ClusterId").GetString());
        Assert.Equal("10", labels.GetProperty("Commit").GetString());
        var message = root.GetProperty("message").GetString()!;
        Assert.StartsWith("node 8e9e05c52164694d (n1) started: cluster cdf818194e3a8c3,", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Peer_ids_from_the_transport_are_hex_in_message_and_labels()
    {
        var line = WriteOne(logger => Bulwark.Server.Transport.TransportLog.ConnectionLost(logger, NodeId, "reset by peer"));

        using var json = JsonDocument.Parse(line);
        Assert.Equal("8e9e05c52164694d", json.RootElement.GetProperty("labels").GetProperty("PeerId").GetString());
        Assert.Equal("connection to peer 8e9e05c52164694d lost: reset by peer", json.RootElement.GetProperty("message").GetString());
    }

    [Fact]
    public void Every_log_template_formats_its_node_member_and_cluster_ids_as_hex()
    {
        var assemblies = new[] { typeof(HostLog).Assembly, typeof(Bulwark.Cli.Commands.ServeCommand).Assembly };
        var checkedIds = 0;
        var offenders = new List<string>();
        foreach (var method in assemblies.SelectMany(a => a.GetTypes()).SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)))
        {
            if (method.GetCustomAttribute<LoggerMessageAttribute>() is not { } attribute)
            {
                continue;
            }

            var formats = MessageTemplateFormats.Of(attribute.Message);
            foreach (var parameter in method.GetParameters().Where(IsNodeId))
            {
                var hole = char.ToUpperInvariant(parameter.Name![0]) + parameter.Name[1..];
                checkedIds++;
                if (formats.GetValueOrDefault(hole) != "x")
                {
                    offenders.Add($"{method.DeclaringType!.Name}.{method.Name}: {{{hole}}} in \"{attribute.Message}\"");
                }
            }
        }

        Assert.True(checkedIds >= 10, $"only {checkedIds} id parameters found; is the reflection still looking at the log classes?");
        Assert.True(offenders.Count == 0, "ids not written in hex ({Name:x}):\n" + string.Join("\n", offenders));
    }

    [Theory]
    [InlineData("node {NodeId:x} in {Term}", "NodeId", "x")]
    [InlineData("{{literal}} {Seconds:F3} s", "Seconds", "F3")]
    [InlineData("{Padded,8:x}", "Padded", "x")]
    public void Template_formats_are_read_per_hole(string template, string hole, string format)
    {
        var formats = MessageTemplateFormats.Of(template);
        Assert.Equal(format, formats[hole]);
        Assert.Single(formats);
    }

    /// <summary>A ulong parameter naming a node, member, peer, cluster or leader (other ulongs are indexes, terms, sizes).</summary>
    private static bool IsNodeId(ParameterInfo parameter) =>
        parameter.ParameterType == typeof(ulong)
        && parameter.Name is { } name
        && (name.EndsWith("Id", StringComparison.Ordinal) || name.Contains("eader", StringComparison.Ordinal));

    private static string WriteOne(Action<ILogger> log)
    {
        var formatter = new EcsJsonFormatter(new FixedOptions(new EcsJsonFormatterOptions { MemberName = "n1" }));
        var writer = new StringWriter();
        log(new FormattingLogger(formatter, writer));
        var text = writer.ToString();
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        return text;
    }

    private sealed class FixedOptions(EcsJsonFormatterOptions value) : IOptionsMonitor<EcsJsonFormatterOptions>
    {
        public EcsJsonFormatterOptions CurrentValue => value;

        public EcsJsonFormatterOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<EcsJsonFormatterOptions, string?> listener) => null;
    }

    /// <summary>Hands each event to the formatter at once, as the console logger does on its own thread.</summary>
    private sealed class FormattingLogger(EcsJsonFormatter formatter, TextWriter writer) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter1) =>
            formatter.Write(new LogEntry<TState>(logLevel, "Bulwark.Test", eventId, state, exception, formatter1), null, writer);
    }
}
