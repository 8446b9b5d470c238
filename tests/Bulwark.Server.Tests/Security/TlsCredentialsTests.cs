using System.Net.Security;
using Bulwark.Server.Security;

namespace Bulwark.Server.Tests.Security;

/// <summary>Certificate files re-read on change; a rotation caught half-written keeps the last matching pair.</summary>
public sealed class TlsCredentialsTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "bulwark-tlscred-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void A_rotation_is_seen_by_the_next_connection_and_a_half_written_one_keeps_the_previous_pair()
    {
        using var ca = LocalCertificateAuthority.Create();
        var files = new LocalClusterCertificates(dir).Generate(ca);
        var credentials = TlsCredentials.Load(new TlsFiles(files.ServerCertFile, files.ServerKeyFile, files.CaFile, ClientCertAuth: true));
        var first = credentials.Certificate!.SerialNumber;

        using var next = ca.Issue("rotated", LocalClusterCertificates.LoopbackHosts);
        // The new certificate lands before its key: that pair does not match, so the old one is still served.
        File.WriteAllText(files.ServerCertFile, next.ExportCertificatePem() + "\n");
        Assert.Equal(first, credentials.Certificate!.SerialNumber);
        Assert.Equal(0, credentials.Reloads);

        LocalCertificateAuthority.WritePair(next, files.ServerCertFile, files.ServerKeyFile);
        Assert.Equal(next.SerialNumber, credentials.Certificate!.SerialNumber);
        Assert.Equal(1, credentials.Reloads);
        Assert.True(credentials.Certificate!.HasPrivateKey);
    }

    [Fact]
    public void Only_certificates_of_the_trusted_ca_that_name_the_dialled_host_are_trusted()
    {
        using var ca = LocalCertificateAuthority.Create();
        using var other = LocalCertificateAuthority.Create("another CA");
        var files = new LocalClusterCertificates(dir).Generate(ca);
        var credentials = TlsCredentials.ForClient(files.CaFile, null, null);
        using var ours = ca.Issue("member", ["127.0.0.1"]);
        using var theirs = other.Issue("member", ["127.0.0.1"]);

        Assert.True(credentials.IsTrusted(ours, SslPolicyErrors.RemoteCertificateChainErrors, checkName: true));
        Assert.False(credentials.IsTrusted(theirs, SslPolicyErrors.RemoteCertificateChainErrors, checkName: true));
        Assert.False(credentials.IsTrusted(ours, SslPolicyErrors.RemoteCertificateNameMismatch, checkName: true));
        Assert.True(credentials.IsTrusted(ours, SslPolicyErrors.RemoteCertificateNameMismatch, checkName: false));
        Assert.False(credentials.IsTrusted(null, SslPolicyErrors.RemoteCertificateNotAvailable, checkName: false));
    }

    [Fact]
    public void Unusable_files_are_refused_with_the_file_named()
    {
        using var ca = LocalCertificateAuthority.Create();
        var files = new LocalClusterCertificates(dir).Generate(ca);
        var mismatch = Assert.Throws<CertificateFileException>(() => CertificateFiles.LoadPair(files.ServerCertFile, files.PeerKeyFile));
        Assert.StartsWith($"key file '{files.PeerKeyFile}' does not match the certificate in '{files.ServerCertFile}'", mismatch.Message, StringComparison.Ordinal);
        var missing = Path.Combine(dir, "absent.pem");
        Assert.StartsWith($"cannot read certificate file '{missing}'", Assert.Throws<CertificateFileException>(() => CertificateFiles.LoadPair(missing, files.ServerKeyFile)).Message, StringComparison.Ordinal);
        Assert.StartsWith($"certificate file '{files.ServerKeyFile}' holds no PEM certificate",
            Assert.Throws<CertificateFileException>(() => CertificateFiles.LoadPair(files.ServerKeyFile, files.ServerKeyFile)).Message, StringComparison.Ordinal);
        Assert.StartsWith($"trusted CA file '{files.ServerKeyFile}' holds no PEM certificate",
            Assert.Throws<CertificateFileException>(() => CertificateFiles.LoadBundle(files.ServerKeyFile)).Message, StringComparison.Ordinal);
    }
}
