using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Bulwark.Server.Security;

/// <summary>
/// A throwaway certificate authority made with .NET's <see cref="CertificateRequest"/>, for a local cluster
/// (`bulwark cluster up --tls`) and tests: an ECDSA P-256 root that issues leaf certificates for both TLS server and
/// client use, naming the hosts given as DNS and IP subject alternative names. Not for production: the CA key lives
/// in a file next to the certificates it signed.
/// </summary>
public sealed class LocalCertificateAuthority : IDisposable
{
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    private LocalCertificateAuthority(X509Certificate2 certificate) => Certificate = certificate;

    /// <summary>The CA certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    public static LocalCertificateAuthority Create(string commonName = "Bulwark throwaway CA", TimeSpan? lifetime = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}, O=Bulwark", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        return new LocalCertificateAuthority(request.CreateSelfSigned(now - ClockSkew, now + (lifetime ?? TimeSpan.FromDays(365))));
    }

    /// <summary>
    /// A leaf certificate (with its private key) for <paramref name="commonName"/>, valid for TLS servers and clients,
    /// naming <paramref name="hosts"/> (IP addresses become IP SANs, the rest DNS SANs).
    /// </summary>
    public X509Certificate2 Issue(string commonName, IEnumerable<string> hosts, TimeSpan? lifetime = null)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}, O=Bulwark", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in hosts)
        {
            if (IPAddress.TryParse(host, out var ip))
            {
                names.AddIpAddress(ip);
            }
            else
            {
                names.AddDnsName(host);
            }
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1", "TLS Web Server Authentication"), new Oid("1.3.6.1.5.5.7.3.2", "TLS Web Client Authentication")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var now = DateTimeOffset.UtcNow;
        var notAfter = now + (lifetime ?? TimeSpan.FromDays(90));
        if (notAfter > Certificate.NotAfter)
        {
            notAfter = Certificate.NotAfter;
        }

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number
        using var signed = request.Create(Certificate, now - ClockSkew, notAfter, serial);
        return signed.CopyWithPrivateKey(key);
    }

    /// <summary>Writes the CA certificate (not its key) as PEM: the trusted-CA file members and clients use.</summary>
    public void WriteCertificate(string path) => File.WriteAllText(path, Certificate.ExportCertificatePem() + "\n");

    /// <summary>Writes a certificate and its private key as PEM files; the key file is readable by its owner only.</summary>
    public static void WritePair(X509Certificate2 certificate, string certPath, string keyPath)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var key = certificate.GetECDsaPrivateKey() ?? throw new ArgumentException("the certificate has no ECDSA private key", nameof(certificate));
        using (key)
        {
            WritePrivate(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        }

        File.WriteAllText(certPath, certificate.ExportCertificatePem() + "\n");
    }

    public void Dispose() => Certificate.Dispose();

    private static void WritePrivate(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(text);
    }
}
