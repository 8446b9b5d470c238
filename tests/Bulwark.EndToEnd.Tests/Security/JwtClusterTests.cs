using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Bulwark.Api.Etcdserverpb;
using Bulwark.EndToEnd.Tests.Compatibility;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.Kv.Auth;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Bulwark.EndToEnd.Tests.Security;

/// <summary>
/// Real members started with --auth-token jwt (keys the test makes with .NET): etcdctl 3.4 --user works on every
/// member, a token one member signed is taken by the others with no replicated per-token state, a password change
/// makes the old token stale everywhere, and a member given only the public key checks tokens but says clearly that it
/// cannot issue them.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class JwtClusterTests(ITestOutputHelper log) : IDisposable
{
    private readonly string keys = Directory.CreateTempSubdirectory("bulwark-jwt-").FullName;

    public void Dispose() => Directory.Delete(keys, recursive: true);

    [Fact]
    public async Task EtcdctlUsersWorkOnEveryMemberWithJwtsAndAPasswordChangeRefusesTheOldToken()
    {
        using var rsa = RSA.Create(2048);
        var priv = Path.Combine(keys, "jwt.key");
        var pub = Path.Combine(keys, "jwt.pub");
        await File.WriteAllTextAsync(priv, rsa.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(pub, rsa.ExportSubjectPublicKeyInfoPem());
        await using var cluster = await ProcessCluster.StartAsync(3, ["--auth-token", $"jwt,pub-key={pub},priv-key={priv},sign-method=RS256,ttl=10m"]);
        try
        {
            foreach (var step in new[]
            {
                new[] { "user", "add", "root:rootpw" }, ["role", "add", "app"], ["role", "grant-permission", "app", "readwrite", "app/", "--prefix"],
                ["user", "add", "alice:alicepw"], ["user", "grant-role", "alice", "app"], ["auth", "enable"],
            })
            {
                await Etcdctl.RunOkAsync(cluster.Endpoints, step);
            }

            // etcdctl logs in (a JWT) and calls, on each member alone.
            for (var i = 0; i < 3; i++)
            {
                var member = cluster.ClientUrls[i];
                Assert.Equal("OK", (await Etcdctl.RunOkAsync(member, "--user", "alice:alicepw", "put", $"app/{i}", $"v{i}")).Trim());
                Assert.Equal($"app/{i}\nv{i}", (await Etcdctl.RunOkAsync(member, "--user", "alice:alicepw", "get", $"app/{i}")).Trim());
                var refused = await Etcdctl.RunAsync(member, null, "--user", "alice:alicepw", "put", "secret", "x");
                Assert.True(refused.Stderr.Contains("Error: etcdserver: permission denied", StringComparison.Ordinal), refused.ToString());
            }

            // The token is a JWS of etcd's claims, signed with the test's key.
            using var channels = new Channels(cluster.ClientUrls);
            var token = (await channels.Auth(0).AuthenticateAsync(new AuthenticateRequest { Name = "alice", Password = "alicepw" }, As(null))).Token;
            var parts = token.Split('.');
            Assert.Equal(3, parts.Length);
            Assert.Equal("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[0])));
            Assert.Contains("\"username\":\"alice\"", Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1])), StringComparison.Ordinal);
            Assert.True(rsa.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

            // Issued by member 0, taken by every member (no login entry in the log, no token table).
            var appKey = new RangeRequest { Key = ByteString.CopyFromUtf8("app/"), RangeEnd = ByteString.CopyFromUtf8("app0") };
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(3, (await channels.Kv(i).RangeAsync(appKey, As(token))).Count);
            }

            // A forged token: refused as etcd refuses it.
            var forged = Assert.Throws<RpcException>(() => channels.Kv(1).Range(appKey, As(parts[0] + "." + parts[1] + ".AAAA")));
            Assert.Equal((StatusCode.Unauthenticated, "etcdserver: invalid auth token"), (forged.StatusCode, forged.Status.Detail));

            // A password change (etcdctl as root) moves the auth revision: the old token is stale on every member.
            await RunOkWithInputAsync(cluster.ClientUrls[2], "alicepw2\n", "--user", "root:rootpw", "user", "passwd", "alice", "--interactive=false");
            for (var i = 0; i < 3; i++)
            {
                var stale = await Assert.ThrowsAsync<RpcException>(async () => await channels.Kv(i).RangeAsync(appKey, As(token)));
                Assert.Equal((StatusCode.InvalidArgument, AuthErrors.AuthOldRevisionMessage), (stale.StatusCode, stale.Status.Detail));
                var write = await Assert.ThrowsAsync<RpcException>(async () => await channels.Kv(i).PutAsync(
                    new PutRequest { Key = ByteString.CopyFromUtf8("app/stale"), Value = ByteString.CopyFromUtf8("x") }, As(token)));
                Assert.Equal(AuthErrors.AuthOldRevisionMessage, write.Status.Detail);
            }

            var oldPassword = await Etcdctl.RunAsync(cluster.ClientUrls[0], null, "--user", "alice:alicepw", "get", "app/0");
            Assert.Contains("Error: etcdserver: authentication failed, invalid user ID or password", oldPassword.Stderr, StringComparison.Ordinal);
            Assert.Equal("app/0\nv0", (await Etcdctl.RunOkAsync(cluster.ClientUrls[1], "--user", "alice:alicepw2", "get", "app/0")).Trim());
            Assert.Equal("", (await Etcdctl.RunOkAsync(cluster.Endpoints, "--user", "root:rootpw", "get", "app/stale")).Trim());

            // n3 restarted with only the public key: it checks tokens, and says why it cannot issue one.
            await cluster.KillAsync(2);
            cluster.Start(2, ["--auth-token", $"jwt,pub-key={pub},sign-method=RS256"]);
            await cluster.WaitForLeaderAsync();
            var fresh = (await channels.Auth(0).AuthenticateAsync(new AuthenticateRequest { Name = "alice", Password = "alicepw2" }, As(null))).Token;
            await Bulwark.TestSupport.Eventually.TrueAsync(
                async () =>
                {
                    try
                    {
                        return (await channels.Kv(2).RangeAsync(appKey, As(fresh))).Count == 3;
                    }
                    catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                    {
                        return false; // still starting
                    }
                },
                "the verify-only member to serve a read with a token n1 signed", ProcessCluster.Patience, diagnostics: cluster.Logs);
            var verifyOnly = await Assert.ThrowsAsync<RpcException>(async () =>
                await channels.Auth(2).AuthenticateAsync(new AuthenticateRequest { Name = "alice", Password = "alicepw2" }, As(null)));
            Assert.Equal((StatusCode.FailedPrecondition, AuthErrors.VerifyOnlyMessage), (verifyOnly.StatusCode, verifyOnly.Status.Detail));
            var etcdctl = await Etcdctl.RunAsync(cluster.ClientUrls[2], null, "--user", "alice:alicepw2", "get", "app/0");
            Assert.True(etcdctl.ExitCode != 0 && etcdctl.Stderr.Contains("verify-only key", StringComparison.Ordinal), etcdctl.ToString());
        }
        catch
        {
            log.WriteLine(cluster.Logs());
            throw;
        }
    }

    private static CallOptions As(string? token) =>
        new(headers: token is null ? null : new Metadata { { "token", token } }, deadline: DateTime.UtcNow.AddSeconds(30));

    private static async Task RunOkWithInputAsync(string endpoints, string stdin, params string[] args)
    {
        var result = await Etcdctl.RunAsync(endpoints, stdin, args);
        Assert.True(result.ExitCode == 0, $"etcdctl {string.Join(' ', args)} failed: {result}");
    }

    private sealed class Channels(IReadOnlyList<string> urls) : IDisposable
    {
        private readonly GrpcChannel[] channels = urls.Select(u => GrpcChannel.ForAddress(u)).ToArray();

        public Auth.AuthClient Auth(int i) => new(channels[i]);

        public KV.KVClient Kv(int i) => new(channels[i]);

        public void Dispose()
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }
}
