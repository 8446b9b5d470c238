namespace Bulwark.Server.Security;

/// <summary>
/// One listener's TLS settings as etcd names them: the certificate and key this side presents, the CA bundle that
/// other sides' certificates must chain to, and whether a connecting side must present one (mutual TLS).
/// </summary>
/// <param name="CertFile">PEM certificate (chain) presented by this side; also this side's client certificate when it dials.</param>
/// <param name="KeyFile">PEM private key of <paramref name="CertFile"/>.</param>
/// <param name="TrustedCaFile">PEM CA bundle; null trusts the system's roots.</param>
/// <param name="ClientCertAuth">Connecting sides must present a certificate that chains to <paramref name="TrustedCaFile"/>.</param>
public sealed record TlsFiles(string CertFile, string KeyFile, string? TrustedCaFile, bool ClientCertAuth);
