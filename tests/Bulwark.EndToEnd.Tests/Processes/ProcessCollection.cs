namespace Bulwark.EndToEnd.Tests.Processes;

/// <summary>
/// Tests that run real `bulwark serve` processes run one at a time (the machine has few cores) and share one
/// long-lived cluster for the tests that only read and write (<see cref="SharedCluster"/>).
/// </summary>
[CollectionDefinition(Name)]
public sealed class ProcessCollection : ICollectionFixture<SharedCluster>
{
    public const string Name = "real bulwark processes";
}

/// <summary>One 3-process cluster for the compatibility and CLI tests; each test uses its own key prefix.</summary>
public sealed class SharedCluster : IAsyncLifetime
{
    private ProcessCluster? cluster;

    public ProcessCluster Cluster => cluster ?? throw new InvalidOperationException("the shared cluster is not started");

    public async Task InitializeAsync() => cluster = await ProcessCluster.StartAsync();

    public async Task DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }
    }
}
