using System.Net;
using System.Text.Json;
using Bulwark.Api.Etcdserverpb;
using Google.Protobuf;

namespace Bulwark.Server.Tests.Api;

/// <summary>
/// The client port answers etcd's plain HTTP/1.1 endpoints (/metrics, /health, /version) next to gRPC over h2c, as
/// etcd does: tools given a client endpoint (etcdctl check datascale) scrape it. Before, it spoke only h2c and answered
/// an HTTP/1.1 GET with 400.
/// </summary>
public sealed class ClientPortHttpTests
{
    [Fact]
    public async Task Metrics_health_and_version_answer_http1_on_the_client_port_while_grpc_works_on_it()
    {
        await using var cluster = new ObservedApiCluster(1);
        await cluster.StartAllAsync();
        await cluster.Nodes.WaitForLeaderAsync();
        var kv = cluster.Kv(0);
        await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("port/before"), Value = ByteString.CopyFromUtf8("1") });

        using var http = new HttpClient { BaseAddress = new Uri(cluster.Nodes.ClientUrls[0]), DefaultRequestVersion = HttpVersion.Version11 };
        using (var metrics = await http.GetAsync(new Uri("/metrics", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            Assert.Equal(HttpVersion.Version11, metrics.Version);
            Assert.StartsWith("text/plain", metrics.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
            var text = await metrics.Content.ReadAsStringAsync();
            Assert.Contains("\nprocess_resident_memory_bytes ", text, StringComparison.Ordinal);
            Assert.Contains("grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"} 1\n", text, StringComparison.Ordinal);
        }

        using (var health = await http.GetAsync(new Uri("/health", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            using var json = JsonDocument.Parse(await health.Content.ReadAsStringAsync());
            Assert.Equal("true", json.RootElement.GetProperty("health").GetString());
        }

        // The same HTTP/1.1 connection again (keep-alive), then etcd's /version document.
        Assert.Equal("{\"etcdserver\":\"3.5.0\",\"etcdcluster\":\"3.5.0\"}", await http.GetStringAsync(new Uri("/version", UriKind.Relative)));

        // gRPC still works on the port, on a connection opened after the HTTP/1.1 ones.
        await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("port/after"), Value = ByteString.CopyFromUtf8("2") });
        var range = await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("port/"), RangeEnd = ByteString.CopyFromUtf8("port0") });
        Assert.Equal(["port/after", "port/before"], range.Kvs.Select(k => k.Key.ToStringUtf8()).Order(StringComparer.Ordinal));
        using var fresh = Grpc.Net.Client.GrpcChannel.ForAddress(cluster.Nodes.ClientUrls[0]);
        var again = await new KV.KVClient(fresh).RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("port/after") });
        Assert.Equal("2", Assert.Single(again.Kvs).Value.ToStringUtf8());
    }
}
