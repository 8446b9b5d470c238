using Microsoft.Extensions.Logging;

namespace Bulwark.Client.Tests.Processes;

/// <summary>A logger factory that keeps one client's log events, to check what it did (failed over, resumed a watch).</summary>
public sealed class CapturedLog : ILoggerFactory
{
    private readonly List<(EventId Id, string Message)> events = [];

    public IReadOnlyList<(EventId Id, string Message)> Events
    {
        get
        {
            lock (events)
            {
                return [.. events];
            }
        }
    }

    public bool Has(string eventName) => Events.Any(e => e.Id.Name == eventName);

    public override string ToString() => string.Join(Environment.NewLine, Events.Select(e => $"{e.Id.Name}: {e.Message}"));

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLog log) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (log.events)
            {
                log.events.Add((eventId, formatter(state, exception)));
            }
        }
    }
}
