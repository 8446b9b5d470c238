using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Bulwark.Api.Security;

/// <summary>
/// The one check of a certificate the other side of a TLS connection presented, as etcd's <c>--cacert</c> /
/// <c>--trusted-ca-file</c> mean it: it must chain to one of the given CA certificates and to nothing else (not the
/// system's roots), be within its validity period, and, when <c>checkName</c> is set (the side that dialled), name the
/// host dialled. Lives here, in the innermost project the client, the server and the bench all reference, so the three
/// cannot drift apart. Revocation is not checked (as etcd by default).
/// </summary>
public static class CustomCaTrust
{
    /// <summary>
    /// Whether to accept <paramref name="presented"/>: use as an <see cref="RemoteCertificateValidationCallback"/>'s
    /// answer, passing the platform's <paramref name="errors"/> (which carry the name check against the target host).
    /// </summary>
    /// <param name="trustedRoots">The CA bundle to trust exclusively; null or empty trusts the system's roots (the
    /// platform's own chain verdict in <paramref name="errors"/> decides).</param>
    /// <param name="checkName">Whether the certificate must name the host dialled (a server's certificate checked by
    /// the client that dialled it); false for a client certificate checked by a server.</param>
    public static bool IsTrusted(X509Certificate? presented, SslPolicyErrors errors, X509Certificate2Collection? trustedRoots, bool checkName)
    {
        if (presented is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        if (checkName && errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return false;
        }

        if (trustedRoots is not { Count: > 0 })
        {
            return !errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors);
        }

        // The platform's chain errors are ignored here: it built the chain against the system's roots, which a private
        // CA is not among. Our chain trusts exactly the bundle (CustomRootTrust), and still checks validity periods.
        using var certificate = new X509Certificate2(presented);
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trustedRoots);
        return chain.Build(certificate);
    }
}
