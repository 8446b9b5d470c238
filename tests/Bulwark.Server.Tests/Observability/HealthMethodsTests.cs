using System.Net;
using Bulwark.Server.Admin;
using Bulwark.Server.Hosting;
using Bulwark.Server.Tests.Api;

namespace Bulwark.Server.Tests.Observability;

/// <summary>
/// Every health path of the admin listener answers GET, HEAD and OPTIONS with the same status (HAProxy's httpchk
/// sends OPTIONS, other balancers HEAD), HEAD without a body.
/// </summary>
public sealed class HealthMethodsTests
{
    private static readonly string[] Paths = ["/livez", "/readyz", "/health", "/health/leader", "/health/replica", "/health/replica?lag=x"];

    [Fact]
    public async Task Get_head_and_options_answer_every_health_path_with_the_same_status()
    {
        await using var cluster = new ObservedApiCluster(1);
        await cluster.StartAllAsync();
        await cluster.Nodes.WaitForLeaderAsync();
        var url = $"http://127.0.0.1:{LoopbackPorts.Next()}";
        await using var admin = AdminServer.Build(cluster.Observability(0), url);
        await admin.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };

        var statuses = new Dictionary<string, HttpStatusCode>();
        foreach (var path in Paths)
        {
            // The single member is the leader: /health/leader is 200, /health/replica 503, a bad lag 400, so all three
            // kinds of answer are compared across methods.
            using var get = await http.GetAsync(path);
            statuses[path] = get.StatusCode;
            Assert.NotEmpty(await get.Content.ReadAsByteArrayAsync());
            foreach (var method in new[] { HttpMethod.Head, HttpMethod.Options })
            {
                using var response = await http.SendAsync(new HttpRequestMessage(method, path));
                Assert.True(get.StatusCode == response.StatusCode, $"{method} {path}: {(int)response.StatusCode}, GET gave {(int)get.StatusCode}");
                if (method == HttpMethod.Head)
                {
                    Assert.Empty(await response.Content.ReadAsByteArrayAsync());
                }
            }
        }

        Assert.Equal(HttpStatusCode.OK, statuses["/health/leader"]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, statuses["/health/replica"]);
        Assert.Equal(HttpStatusCode.BadRequest, statuses["/health/replica?lag=x"]);
        Assert.Equal(HttpStatusCode.OK, statuses["/health"]);
    }
}
