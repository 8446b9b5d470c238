using Bulwark.EndToEnd.Tests.Compatibility;
using Bulwark.EndToEnd.Tests.Processes;

namespace Bulwark.Client.Tests.Processes;

/// <summary>
/// The client's process tests run one at a time (the machine has few cores) and share one 3-process Bulwark cluster
/// and one real etcd 3.4 for the recipes that do not kill members; each test uses its own key prefix.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ClientProcessCollection : ICollectionFixture<Backends>
{
    public const string Name = "client against real servers";
}

/// <summary>A running Bulwark cluster and a running reference etcd.</summary>
public sealed class Backends : IAsyncLifetime
{
    private ProcessCluster? bulwark;

    public ReferenceEtcd Etcd { get; } = new();

    public ProcessCluster Bulwark => bulwark ?? throw new InvalidOperationException("the Bulwark cluster is not started");

    public async Task InitializeAsync()
    {
        bulwark = await ProcessCluster.StartAsync();
        await Etcd.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        if (bulwark is not null)
        {
            await bulwark.DisposeAsync();
        }

        await Etcd.DisposeAsync();
    }
}

/// <summary>Which server a recipe test runs against.</summary>
public enum Server
{
    Bulwark,
    Etcd,
}

/// <summary>Endpoints, logs and a unique prefix for one test against one server.</summary>
public sealed class Target(Backends backends, Server server)
{
    public Server Server => server;

    public IReadOnlyList<string> Endpoints => server == Server.Bulwark
        ? backends.Bulwark.ClientUrls
        : [$"http://{backends.Etcd.Endpoint}"];

    /// <summary>Endpoints as etcdctl takes them.</summary>
    public string EtcdctlEndpoints => string.Join(",", Endpoints.Select(e => new Uri(e).Authority));

    public string Logs() => server == Server.Bulwark ? backends.Bulwark.Logs() : backends.Etcd.Log;

    public BulwarkClient Client() => new(new BulwarkClientOptions { Endpoints = [.. Endpoints] });

    /// <summary>A prefix no other test uses.</summary>
    public static string Unique(string what) => $"{what}-{Guid.NewGuid():N}"[..(what.Length + 13)];
}
