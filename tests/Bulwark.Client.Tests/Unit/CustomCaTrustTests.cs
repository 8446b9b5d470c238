using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Bulwark.Api.Security;

namespace Bulwark.Client.Tests.Unit;

/// <summary>
/// The one custom-CA check the client, the server and the bench share (<see cref="CustomCaTrust"/>), on certificates
/// made here: the platform's chain verdict (which knows nothing of a private CA) is passed in as a real callback gets it.
/// </summary>
public sealed class CustomCaTrustTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private readonly X509Certificate2 ca = MakeCa("CN=trusted test CA");
    private readonly X509Certificate2 otherCa = MakeCa("CN=other test CA");

    public void Dispose()
    {
        ca.Dispose();
        otherCa.Dispose();
    }

    [Fact]
    public void A_certificate_from_the_trusted_ca_passes_although_the_platform_knows_no_such_root()
    {
        using var leaf = Issue(ca, Now.AddDays(-1), Now.AddDays(1));
        Assert.True(CustomCaTrust.IsTrusted(leaf, SslPolicyErrors.RemoteCertificateChainErrors, [ca], checkName: true));
        Assert.True(CustomCaTrust.IsTrusted(leaf, SslPolicyErrors.None, [ca], checkName: false));
    }

    [Fact]
    public void A_certificate_from_another_ca_fails()
    {
        using var leaf = Issue(otherCa, Now.AddDays(-1), Now.AddDays(1));
        Assert.False(CustomCaTrust.IsTrusted(leaf, SslPolicyErrors.RemoteCertificateChainErrors, [ca], checkName: true));
        Assert.False(CustomCaTrust.IsTrusted(leaf, SslPolicyErrors.None, [ca], checkName: false));
    }

    [Fact]
    public void The_other_cas_own_certificate_fails()
    {
        Assert.False(CustomCaTrust.IsTrusted(otherCa, SslPolicyErrors.RemoteCertificateChainErrors, [ca], checkName: false));
    }

    [Fact]
    public void An_expired_certificate_from_the_trusted_ca_fails()
    {
        using var expired = Issue(ca, Now.AddDays(-10), Now.AddDays(-1));
        Assert.False(CustomCaTrust.IsTrusted(expired, SslPolicyErrors.RemoteCertificateChainErrors, [ca], checkName: false));
    }

    [Fact]
    public void A_certificate_not_yet_valid_fails()
    {
        using var early = Issue(ca, Now.AddDays(1), Now.AddDays(2));
        Assert.False(CustomCaTrust.IsTrusted(early, SslPolicyErrors.None, [ca], checkName: false));
    }

    [Fact]
    public void A_name_mismatch_fails_when_the_name_is_checked_and_only_then()
    {
        using var leaf = Issue(ca, Now.AddDays(-1), Now.AddDays(1));
        const SslPolicyErrors Mismatch = SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateChainErrors;
        Assert.False(CustomCaTrust.IsTrusted(leaf, Mismatch, [ca], checkName: true));
        // A server checking a client's certificate has no host name to compare.
        Assert.True(CustomCaTrust.IsTrusted(leaf, Mismatch, [ca], checkName: false));
    }

    [Fact]
    public void No_certificate_fails()
    {
        Assert.False(CustomCaTrust.IsTrusted(null, SslPolicyErrors.RemoteCertificateNotAvailable, [ca], checkName: false));
        using var leaf = Issue(ca, Now.AddDays(-1), Now.AddDays(1));
        Assert.False(CustomCaTrust.IsTrusted(leaf, SslPolicyErrors.RemoteCertificateNotAvailable, [ca], checkName: false));
    }

    [Fact]
    public void Without_a_bundle_the_platforms_verdict_against_the_system_roots_decides()
    {
        using var leaf = Issue(ca, Now.AddDays(-1), Now.AddDays(1));
        Assert.True(CustomCaTrust.IsTrusted(leaf, SslPolicyErrors.None, null, checkName: true));
        Assert.False(CustomCaTrust.IsTrusted(leaf, SslPolicyErrors.RemoteCertificateChainErrors, null, checkName: true));
        Assert.False(CustomCaTrust.IsTrusted(leaf, SslPolicyErrors.RemoteCertificateChainErrors, [], checkName: false));
    }

    private static X509Certificate2 MakeCa(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        return request.CreateSelfSigned(Now.AddDays(-30), Now.AddDays(30));
    }

    private static X509Certificate2 Issue(X509Certificate2 issuer, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=test leaf", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        return request.Create(issuer, notBefore, notAfter, RandomNumberGenerator.GetBytes(8));
    }
}
