using Bulwark.Api.Etcdserverpb;
using Bulwark.EndToEnd.Tests.Compatibility;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.Server.Security;
using Grpc.Core;
using Xunit.Abstractions;

namespace Bulwark.EndToEnd.Tests.Security;

/// <summary>
/// The user named by a client certificate (--client-cert-auth), end to end with real processes and etcdctl 3.4 over
/// mutual TLS: its permissions are enforced as a password user's, an unknown name gets nothing, and a membership call
/// sent to a follower reaches the leader as the same user, while no header a client sends makes it anyone else.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class CertificateUserTests(ITestOutputHelper log) : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("bulwark-cn-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task TheCertificatesCommonNameIsTheUserOnEveryMemberAndOnCallsAFollowerForwards()
    {
        using var ca = LocalCertificateAuthority.Create();
        var certs = new LocalClusterCertificates(Path.Combine(root, "tls")).Generate(ca); // its client certificate is CN=root
        var alice = Issue(ca, "alice");
        var mallory = Issue(ca, "mallory");
        await using var cluster = await ProcessCluster.StartAsync(3, spare: 1, tls: certs);
        try
        {
            string[] asRoot = [$"--cacert={certs.CaFile}", $"--cert={certs.ClientCertFile}", $"--key={certs.ClientKeyFile}"];
            string[] asAlice = [$"--cacert={certs.CaFile}", $"--cert={alice.Cert}", $"--key={alice.Key}"];
            string[] asMallory = [$"--cacert={certs.CaFile}", $"--cert={mallory.Cert}", $"--key={mallory.Key}"];
            foreach (var step in new[]
            {
                new[] { "user", "add", "root:rootpw" }, ["role", "add", "app"], ["role", "grant-permission", "app", "readwrite", "app/", "--prefix"],
                ["user", "add", "alice:alicepw"], ["user", "grant-role", "alice", "app"], ["auth", "enable"],
            })
            {
                await Etcdctl.RunOkAsync(cluster.Endpoints, [.. asRoot, .. step]);
            }

            // No --user anywhere below: the certificate's CN is the user, on every member.
            for (var i = 0; i < 3; i++)
            {
                var member = cluster.ClientUrls[i];
                Assert.Equal("OK", (await Etcdctl.RunOkAsync(member, [.. asAlice, "put", "app/x", $"v{i}"])).Trim());
                Assert.Equal(PermissionDenied, ErrorLine(await Etcdctl.RunAsync(member, null, [.. asAlice, "put", "other", "x"])));
                Assert.Equal(PermissionDenied, ErrorLine(await Etcdctl.RunAsync(member, null, [.. asAlice, "get", "other"])));
                Assert.Equal(PermissionDenied, ErrorLine(await Etcdctl.RunAsync(member, null, [.. asMallory, "put", "app/x", "stolen"])));
                Assert.Equal(PermissionDenied, ErrorLine(await Etcdctl.RunAsync(member, null, [.. asMallory, "get", "app/x"])));
            }

            // Nothing refused changed anything (read as root, by its certificate).
            Assert.Equal("app/x\nv2", (await Etcdctl.RunOkAsync(cluster.Endpoints, [.. asRoot, "get", "app/x"])).Trim().ReplaceLineEndings("\n"));
            Assert.Equal("", (await Etcdctl.RunOkAsync(cluster.Endpoints, [.. asRoot, "get", "other"])).Trim());

            // Membership calls sent to a follower are forwarded to the leader as the certificate's user: root may,
            // alice may not. (Before the forwarded hop carried the user, the leader saw the follower's own certificate.)
            var leader = await cluster.WaitForLeaderAsync();
            var follower = cluster.ClientUrls[(leader + 1) % 3];
            Assert.Equal(PermissionDenied, ErrorLine(await Etcdctl.RunAsync(follower, null, [.. asAlice, "member", "add", "n4", "--learner", $"--peer-urls={cluster.PeerUrls[3]}"])));
            var added = await Etcdctl.RunOkAsync(follower, [.. asRoot, "member", "add", "n4", "--learner", $"--peer-urls={cluster.PeerUrls[3]}"]);
            var id = added.Split('\n').Single(l => l.StartsWith("Member ", StringComparison.Ordinal)).Split(' ')[1];
            Assert.Contains(cluster.PeerUrls[3], await Etcdctl.RunOkAsync(cluster.ClientUrls[leader], [.. asRoot, "member", "list"]), StringComparison.Ordinal);
            Assert.Contains($"Member {id} removed", await Etcdctl.RunOkAsync(follower, [.. asRoot, "member", "remove", id]), StringComparison.Ordinal);

            // A client cannot pose as a forwarding member: alice's certificate with the forwarding mark and a header
            // naming root, straight to the leader, is still alice (a design that trusted such a header would pass it).
            var aliceTls = TlsCredentials.ForClient(certs.CaFile, alice.Cert, alice.Key);
            using var channel = MemberChannels.Create(cluster.ClientUrls[leader], aliceTls);
            var headers = new Metadata { { "bulwark-forwarded", "1" }, { "bulwark-forwarded-user", "root" }, { "bulwark-user", "root" } };
            var forged = await Assert.ThrowsAsync<RpcException>(async () => await new Cluster.ClusterClient(channel).MemberAddAsync(
                new MemberAddRequest { PeerURLs = { cluster.PeerUrls[3] }, IsLearner = true }, new CallOptions(headers, DateTime.UtcNow.AddSeconds(30))));
            Assert.Equal((StatusCode.PermissionDenied, "etcdserver: permission denied"), (forged.StatusCode, forged.Status.Detail));
            Assert.DoesNotContain(cluster.PeerUrls[3], await Etcdctl.RunOkAsync(cluster.Endpoints, [.. asRoot, "member", "list"]), StringComparison.Ordinal);
        }
        catch
        {
            log.WriteLine(cluster.Logs());
            throw;
        }
    }

    private const string PermissionDenied = "Error: etcdserver: permission denied";

    private (string Cert, string Key) Issue(LocalCertificateAuthority ca, string commonName)
    {
        using var certificate = ca.Issue(commonName, LocalClusterCertificates.LoopbackHosts);
        var pair = (Path.Combine(root, commonName + ".crt"), Path.Combine(root, commonName + ".key"));
        LocalCertificateAuthority.WritePair(certificate, pair.Item1, pair.Item2);
        return pair;
    }

    private static string ErrorLine(Etcdctl.Result result) =>
        Etcdctl.Lines(result.Stderr).LastOrDefault(line => line.StartsWith("Error: ", StringComparison.Ordinal)) ?? $"(no error line) {result}";
}
