using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.Server.Security;
using Grpc.Core;
using Xunit.Abstractions;

namespace Bulwark.Client.Tests.Processes;

/// <summary>
/// <see cref="BulwarkClientOptions"/>' TLS settings against real members on mutual TLS (https client and peer URLs,
/// --client-cert-auth) with certificates the test makes: the CA bundle and a client certificate let the client put
/// and get; without the client certificate the members refuse it; trusting another CA, the client refuses the members.
/// </summary>
[Collection(ClientProcessCollection.Name)]
public sealed class TlsClientTests(ITestOutputHelper log) : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "bulwark-client-tls-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temp dir is harmless
        }
    }

    [Fact]
    public async Task The_clients_ca_and_certificate_settings_reach_a_mutual_tls_cluster_and_a_wrong_setting_is_refused()
    {
        using var ca = LocalCertificateAuthority.Create();
        var certs = new LocalClusterCertificates(Path.Combine(root, "tls")).Generate(ca);
        var foreign = new LocalClusterCertificates(Path.Combine(root, "foreign")).Generate();
        await using var cluster = await ProcessCluster.StartAsync(3, tls: certs);
        await cluster.WaitForLeaderAsync();
        var trusted = CertificateFiles.LoadBundle(certs.CaFile);
        using var clientCertificate = CertificateFiles.LoadPair(certs.ClientCertFile, certs.ClientKeyFile);

        // The CA bundle and the client certificate: writes and reads through every member.
        await using (var client = new BulwarkClient(new BulwarkClientOptions
        {
            Endpoints = [.. cluster.ClientUrls],
            TrustedCa = trusted,
            ClientCertificate = clientCertificate,
        }))
        {
            for (var i = 0; i < 3; i++)
            {
                await client.PutAsync($"tls/k{i}", $"v{i}");
            }

            var read = await client.GetAsync("tls/k2");
            Assert.Equal("v2", Assert.Single(read.Kvs).Value.ToStringUtf8());
        }

        // No client certificate: the members require one (--client-cert-auth), so the handshake fails and nothing is written.
        var anonymous = await Assert.ThrowsAsync<RpcException>(() => WithClientAsync(cluster, trusted, null, c => c.PutAsync("tls/k0", "stolen")));
        log.WriteLine($"without a client certificate: {anonymous.Status}");
        Assert.NotEqual(StatusCode.OK, anonymous.StatusCode);

        // Trusting another CA: the client refuses the members' certificate, with an error that says so.
        using var foreignClient = CertificateFiles.LoadPair(foreign.ClientCertFile, foreign.ClientKeyFile);
        var distrustful = await Assert.ThrowsAsync<RpcException>(() =>
            WithClientAsync(cluster, CertificateFiles.LoadBundle(foreign.CaFile), clientCertificate, c => c.GetAsync("tls/k0")));
        log.WriteLine($"trusting another CA: {distrustful.Status}");
        Assert.True(distrustful.StatusCode is StatusCode.Unavailable or StatusCode.Internal, distrustful.Status.ToString());
        Assert.Contains("remote certificate", distrustful.Status.Detail, StringComparison.OrdinalIgnoreCase);

        // A client certificate of another CA: refused by the members.
        var impostor = await Assert.ThrowsAsync<RpcException>(() => WithClientAsync(cluster, trusted, foreignClient, c => c.PutAsync("tls/k0", "stolen")));
        log.WriteLine($"with another CA's client certificate: {impostor.Status}");
        Assert.NotEqual(StatusCode.OK, impostor.StatusCode);

        // None of the refused calls changed anything.
        await using var check = new BulwarkClient(new BulwarkClientOptions { Endpoints = [.. cluster.ClientUrls], TrustedCa = trusted, ClientCertificate = clientCertificate });
        Assert.Equal("v0", Assert.Single((await check.GetAsync("tls/k0")).Kvs).Value.ToStringUtf8());
    }

    /// <summary>One call through a client with these TLS settings that gives up after one sweep over the members.</summary>
    private static async Task WithClientAsync(ProcessCluster cluster, System.Security.Cryptography.X509Certificates.X509Certificate2Collection trustedCa,
        System.Security.Cryptography.X509Certificates.X509Certificate2? certificate, Func<BulwarkClient, Task> call)
    {
        await using var client = new BulwarkClient(new BulwarkClientOptions
        {
            Endpoints = [.. cluster.ClientUrls],
            TrustedCa = trustedCa,
            ClientCertificate = certificate,
            MaxAttempts = 1,
            RequestTimeout = TimeSpan.FromSeconds(20),
        });
        await call(client);
    }
}
