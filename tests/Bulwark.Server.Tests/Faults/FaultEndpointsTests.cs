using System.Net;
using System.Text;
using System.Text.Json;
using Bulwark.Server.Admin;
using Bulwark.Server.Faults;
using Bulwark.Server.Hosting;
using Bulwark.Server.Tests.Api;
using Bulwark.Storage.FileSystem;

namespace Bulwark.Server.Tests.Faults;

/// <summary>/debug/faults on the admin listener: refused without fault injection, strict about its input with it.</summary>
public sealed class FaultEndpointsTests
{
    [Fact]
    public async Task Without_fault_injection_both_methods_answer_404_and_nothing_exists_to_change()
    {
        await using var cluster = new ObservedApiCluster(1);
        await cluster.StartAllAsync();
        var url = $"http://127.0.0.1:{LoopbackPorts.Next()}";
        await using var admin = AdminServer.Build(cluster.Observability(0), url);
        await admin.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };

        using var get = await http.GetAsync(FaultEndpoints.Path);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Contains("--unsafe-fault-injection", await get.Content.ReadAsStringAsync());
        using var post = await http.PostAsync(FaultEndpoints.Path, Body("""{"point":"disk-full","enabled":true}"""));
        Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
    }

    [Fact]
    public async Task With_fault_injection_it_switches_points_and_refuses_bad_input_with_400()
    {
        await using var cluster = new ObservedApiCluster(1);
        await cluster.StartAllAsync();
        var faults = new FaultInjection(new InMemoryFileSystem());
        var url = $"http://127.0.0.1:{LoopbackPorts.Next()}";
        await using var admin = AdminServer.Build(cluster.Observability(0), url, faults: faults);
        await admin.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };

        Assert.Equal("""{"active":[],"clockOffsetMs":0}""", await http.GetStringAsync(FaultEndpoints.Path));

        using (var on = await http.PostAsync(FaultEndpoints.Path, Body("""{"point":"fsync-delay","delayMs":50,"enabled":true}""")))
        {
            Assert.Equal(HttpStatusCode.OK, on.StatusCode);
        }

        using (var jump = await http.PostAsync(FaultEndpoints.Path, Body("""{"point":"clock-jump","delayMs":-2000}""")))
        {
            Assert.Equal(HttpStatusCode.OK, jump.StatusCode);
        }

        var state = await http.GetStringAsync(FaultEndpoints.Path);
        Assert.Equal("""{"active":[{"point":"fsync-delay","delayMs":50}],"clockOffsetMs":-2000}""", state);
        Assert.Equal(TimeSpan.FromMilliseconds(50), faults.Points.FsyncDelayTime);

        foreach (var (body, why) in new[]
        {
            ("not json", "must be JSON"),
            ("[1]", "must be JSON"),
            ("null", "JSON object"),
            ("""{"point":"fsync-delay","delayMs":"fifty","enabled":true}""", "must be JSON"),
            ("""{"point":"no-such","enabled":true}""", "unknown fault point 'no-such'"),
            ("""{"point":"disk-full"}""", "needs 'enabled'"),
            ("""{"point":"fsync-delay","delayMs":0,"enabled":true}""", "positive 'delayMs'"),
        })
        {
            using var refused = await http.PostAsync(FaultEndpoints.Path, Body(body));
            Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{body}: {(int)refused.StatusCode}");
            var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();
            Assert.Contains(why, error);
            Assert.Equal(state, await http.GetStringAsync(FaultEndpoints.Path)); // nothing changed
        }
    }

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");
}
