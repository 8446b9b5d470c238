using Bulwark.Server.Observability;
using Bulwark.Server.Tests.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Tests.Api;

/// <summary>
/// A <see cref="LocalCluster"/> wired as `bulwark serve` wires a member: each node host has a
/// <see cref="NodeObservability"/> (failure detector, journal) attached and its gRPC API served on its client URL.
/// What each node's observability logs is kept in <see cref="Logs"/>. A restarted node (<see cref="RestartAsync"/>) runs
/// without its observability attached (an observability attaches to one node host only): it is there for the others to see.
/// </summary>
internal sealed class ObservedApiCluster : IAsyncDisposable
{
    private readonly ApiCluster api;

    public ObservedApiCluster(int size = 3)
    {
        Logs = Enumerable.Range(0, size).Select(_ => new RecordingLoggers()).ToArray();
        api = new ApiCluster(size, adjust: options => options with
        {
            Observer = new NodeObservability(options.NodeId, options.InitialCluster, options.DataDir, options.HeartbeatInterval, options.ElectionTimeout,
                Logs[options.InitialCluster.ToList().FindIndex(m => m.Id == options.NodeId)]),
        });
    }

    public LocalCluster Nodes => api.Nodes;

    public IReadOnlyList<RecordingLoggers> Logs { get; }

    public string Name(int i) => Nodes.Members[i].Name;

    public NodeObservability Observability(int i) => (NodeObservability)Nodes.Options[i].Observer!;

    public async Task StartAllAsync()
    {
        for (var i = 0; i < Nodes.Size; i++)
        {
            await api.StartAsync(i);
            Observability(i).Attach(Nodes.Node(i));
        }
    }

    public Task StopAsync(int i) => api.StopAsync(i);

    /// <summary>Starts a stopped node again on the same data and addresses (its own observability stays detached).</summary>
    public Task RestartAsync(int i) => api.StartAsync(i);

    public Bulwark.Api.V1.Node.NodeClient Node(int i) => api.Node(i);

    public Bulwark.Api.Etcdserverpb.KV.KVClient Kv(int i) => api.Kv(i);

    public Bulwark.Api.Etcdserverpb.Watch.WatchClient Watch(int i) => api.Watch(i);

    public Bulwark.Api.Etcdserverpb.Lease.LeaseClient Lease(int i) => api.Lease(i);

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < Nodes.Size; i++)
        {
            await api.StopAsync(i);
        }

        // Observability before the cluster: its journal lives in the data dirs the cluster deletes.
        for (var i = 0; i < Nodes.Size; i++)
        {
            await Observability(i).DisposeAsync();
        }

        await api.DisposeAsync();
    }
}

/// <summary>A logger factory that keeps every entry (event id, level, rendered message) for assertions.</summary>
internal sealed class RecordingLoggers : ILoggerFactory, ILogger
{
    private readonly List<(EventId Id, LogLevel Level, string Message)> entries = [];

    public IReadOnlyList<(EventId Id, LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (entries)
            {
                return [.. entries];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        lock (entries)
        {
            entries.Add((eventId, logLevel, formatter(state, exception)));
        }
    }

    public void Dispose()
    {
    }
}
