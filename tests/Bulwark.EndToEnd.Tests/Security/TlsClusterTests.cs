using System.Security.Cryptography.X509Certificates;
using Bulwark.EndToEnd.Tests.Compatibility;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.Server.Security;
using Bulwark.TestSupport;

namespace Bulwark.EndToEnd.Tests.Security;

/// <summary>
/// Real members on mutual TLS (client and peer ports) with certificates the test makes, driven by the real etcdctl 3.4:
/// clients and peers without a certificate of the cluster's CA are refused (and the refusals journalled) while the
/// cluster carries on; rotated certificate files reach new connections without a restart.
/// </summary>
public sealed class TlsClusterTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "bulwark-tls-" + Guid.NewGuid().ToString("N")[..12]);

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
    public async Task EtcdctlWorksOverMutualTlsRefusesClientsWithoutTheCasCertificateAndRotatedCertificatesReachNewConnections()
    {
        using var ca = LocalCertificateAuthority.Create();
        var certs = new LocalClusterCertificates(Path.Combine(root, "tls")).Generate(ca);
        var foreign = new LocalClusterCertificates(Path.Combine(root, "foreign")).Generate();
        await using var cluster = await ProcessCluster.StartAsync(3, tls: certs);
        string[] flags = [$"--cacert={certs.CaFile}", $"--cert={certs.ClientCertFile}", $"--key={certs.ClientKeyFile}"];

        // Every member serves etcdctl over TLS; writes sent to followers reach the leader (forwarded inside the cluster).
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("OK", (await Etcdctl.RunOkAsync(cluster.ClientUrls[i], [.. flags, "put", $"k{i}", $"v{i}"])).Trim());
        }

        var all = await Etcdctl.RunOkAsync(cluster.Endpoints, [.. flags, "get", "k", "--prefix"]);
        Assert.Equal("k0\nv0\nk1\nv1\nk2\nv2", all.Trim().ReplaceLineEndings("\n"));
        var members = await Etcdctl.RunOkAsync(cluster.ClientUrls[1], [.. flags, "member", "list"]);
        Assert.All(cluster.ClientUrls, url => Assert.Contains(url, members, StringComparison.Ordinal));
        Assert.All(cluster.PeerUrls, url => Assert.Contains(url, members, StringComparison.Ordinal));

        // A lease asked of every member: followers forward TimeToLive to the leader over mutual TLS.
        var granted = await Etcdctl.RunOkAsync(cluster.ClientUrls[0], [.. flags, "lease", "grant", "600"]);
        var leaseId = granted.Split(' ')[1];
        for (var i = 0; i < 3; i++)
        {
            Assert.Contains($"lease {leaseId} granted with TTL(600s)", await Etcdctl.RunOkAsync(cluster.ClientUrls[i], [.. flags, "lease", "timetolive", leaseId]), StringComparison.Ordinal);
        }

        // No client certificate, or one another CA signed: refused, and nothing changed.
        string[] quick = ["--dial-timeout=5s", "--command-timeout=10s"];
        var anonymous = await Etcdctl.RunAsync(cluster.ClientUrls[0], null, [.. quick, $"--cacert={certs.CaFile}", "put", "k0", "stolen"]);
        Assert.True(anonymous.ExitCode != 0, $"a client without a certificate was served: {anonymous}");
        var impostor = await Etcdctl.RunAsync(cluster.ClientUrls[0], null, [.. quick, $"--cacert={certs.CaFile}", $"--cert={foreign.ClientCertFile}", $"--key={foreign.ClientKeyFile}", "put", "k0", "stolen"]);
        Assert.True(impostor.ExitCode != 0, $"a client with a foreign CA's certificate was served: {impostor}");
        var distrustful = await Etcdctl.RunAsync(cluster.ClientUrls[0], null, [.. quick, $"--cacert={foreign.CaFile}", $"--cert={certs.ClientCertFile}", $"--key={certs.ClientKeyFile}", "get", "k0"]);
        Assert.True(distrustful.ExitCode != 0, $"etcdctl trusted a server its CA did not sign: {distrustful}");
        Assert.Equal("k0\nv0", (await Etcdctl.RunOkAsync(cluster.ClientUrls[2], [.. flags, "get", "k0"])).Trim().ReplaceLineEndings("\n"));

        // Rotation: new server and peer certificates from the same CA, written over the files; no restart.
        using var client = CertificateFiles.LoadPair(certs.ClientCertFile, certs.ClientKeyFile);
        var clientPort = cluster.ClientPorts[0];
        var peerPort = new Uri(cluster.PeerUrls[0]).Port;
        var serverBefore = await TlsProbe.PresentedSerialAsync(clientPort, client);
        var peerBefore = await TlsProbe.PresentedSerialAsync(peerPort, client);
        using var server2 = ca.Issue("bulwark-server-rotated", LocalClusterCertificates.LoopbackHosts);
        using var peer2 = ca.Issue("bulwark-peer-rotated", LocalClusterCertificates.LoopbackHosts);
        Assert.NotEqual(serverBefore, server2.SerialNumber);
        Replace(server2, certs.ServerCertFile, certs.ServerKeyFile);
        Replace(peer2, certs.PeerCertFile, certs.PeerKeyFile);

        await Eventually.TrueAsync(
            async () => await TlsProbe.PresentedSerialAsync(clientPort, client) == server2.SerialNumber,
            "a new client connection to n1 to get the rotated server certificate", diagnostics: cluster.Logs);
        await Eventually.TrueAsync(
            async () => await TlsProbe.PresentedSerialAsync(peerPort, client) == peer2.SerialNumber,
            "a new peer connection to n1 to get the rotated peer certificate", diagnostics: cluster.Logs);
        Assert.NotEqual(peerBefore, peer2.SerialNumber);

        // New etcdctl connections work against the rotated certificate, and the cluster still commits.
        Assert.Equal("OK", (await Etcdctl.RunOkAsync(cluster.ClientUrls[0], [.. flags, "put", "after-rotation", "yes"])).Trim());
        Assert.Equal("after-rotation\nyes", (await Etcdctl.RunOkAsync(cluster.Endpoints, [.. flags, "get", "after-rotation", "--consistency=l"])).Trim().ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task PeersWithoutAValidCertificateAreRefusedJournalledAndCannotJoinWhileTheClusterCarriesOn()
    {
        using var ca = LocalCertificateAuthority.Create();
        var certs = new LocalClusterCertificates(Path.Combine(root, "tls")).Generate(ca);
        var foreign = new LocalClusterCertificates(Path.Combine(root, "foreign")).Generate();
        await using var cluster = await ProcessCluster.StartAsync(3, spare: 1, tls: certs);
        string[] flags = [$"--cacert={certs.CaFile}", $"--cert={certs.ClientCertFile}", $"--key={certs.ClientKeyFile}"];
        var leader = await cluster.WaitForLeaderAsync();
        var target = (leader + 1) % 3;
        var peerPort = new Uri(cluster.PeerUrls[target]).Port;
        using var peerCert = CertificateFiles.LoadPair(certs.PeerCertFile, certs.PeerKeyFile);
        using var foreignPeer = CertificateFiles.LoadPair(foreign.PeerCertFile, foreign.PeerKeyFile);

        // Control: with the cluster's peer certificate the listener reads our handshake and answers it (refusing our made-up ids).
        Assert.True(await TlsProbe.PeerAnswersAsync(peerPort, tls: true, peerCert), "the peer port did not answer a peer with a valid certificate");
        // Plain TCP, TLS without a certificate, TLS with another CA's certificate: closed before a frame is read.
        Assert.False(await TlsProbe.PeerAnswersAsync(peerPort, tls: false, null), "the peer port read a handshake sent without TLS");
        Assert.False(await TlsProbe.PeerAnswersAsync(peerPort, tls: true, null), "the peer port read a handshake from a peer without a certificate");
        Assert.False(await TlsProbe.PeerAnswersAsync(peerPort, tls: true, foreignPeer), "the peer port read a handshake from a peer another CA signed");

        var journal = Path.Combine(cluster.DataDir(target), "journal", "events.jsonl");
        await Eventually.TrueAsync(
            () => File.Exists(journal) && File.ReadLines(journal).Count(l => l.Contains("\"peer_connection_refused\"", StringComparison.Ordinal) && l.Contains("TLS handshake", StringComparison.Ordinal)) >= 3,
            "the three refused TLS handshakes in the member's journal", diagnostics: () => File.Exists(journal) ? File.ReadAllText(journal) : "(no journal)");

        // The cluster is unaffected: same leader, writes commit.
        Assert.Equal(leader, await cluster.WaitForLeaderAsync());
        Assert.Equal("OK", (await Etcdctl.RunOkAsync(cluster.Endpoints, [.. flags, "put", "still", "here"])).Trim());

        // A member added to the cluster but started with another CA's certificates cannot join: the members' peer
        // certificates do not verify against its CA (nor its against theirs), so it never learns the membership.
        var peer4 = cluster.PeerUrls[3];
        var added = await Etcdctl.RunOkAsync(cluster.Endpoints, [.. flags, "member", "add", "n4", "--learner", $"--peer-urls={peer4}"]);
        var initialCluster = added.Split('\n').Single(l => l.StartsWith("ETCD_INITIAL_CLUSTER=", StringComparison.Ordinal))["ETCD_INITIAL_CLUSTER=".Length..].Trim().Trim('"');
        cluster.UseCertificates(3, foreign);
        cluster.StartJoining(3, initialCluster);
        Assert.Equal(1, await cluster.WaitForExitAsync(3));
        Assert.Contains(cluster.StandardOutput(3), line => line.Contains("could not fetch the cluster", StringComparison.Ordinal));
        Assert.Equal("still\nhere", (await Etcdctl.RunOkAsync(cluster.Endpoints, [.. flags, "get", "still", "--consistency=l"])).Trim().ReplaceLineEndings("\n"));

        // With the cluster's certificates the same member joins over TLS (member query, then Raft).
        cluster.UseCertificates(3, certs);
        cluster.Start(3);
        await Eventually.TrueAsync(
            async () => (await Etcdctl.RunOkAsync(cluster.Endpoints, [.. flags, "member", "list"])).Contains($"started, n4, {peer4}, {cluster.ClientUrls[3]}", StringComparison.Ordinal),
            "n4 to join over TLS and publish its client URL", diagnostics: cluster.Logs);
    }

    /// <summary>Writes a new pair over the files the way an operator's tooling would: each file replaced whole (rename).</summary>
    private static void Replace(X509Certificate2 certificate, string certFile, string keyFile)
    {
        LocalCertificateAuthority.WritePair(certificate, certFile + ".new", keyFile + ".new");
        File.Move(keyFile + ".new", keyFile, overwrite: true);
        File.Move(certFile + ".new", certFile, overwrite: true);
    }
}
