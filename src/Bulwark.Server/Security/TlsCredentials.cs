using System.Net.Http;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Bulwark.Server.Security;

/// <summary>
/// The live certificates of one side of TLS (a listener and the connections it dials): its own certificate and key and
/// the CA bundle it trusts, re-read when the files change so a rotation needs no restart (each new connection sees
/// the files as they are; a connection already open keeps what it negotiated). A rotation caught half-written (a key
/// that does not match the certificate yet) keeps the previous pair until the files agree again.
/// Only TLS 1.2 and 1.3 are offered or accepted.
/// </summary>
public sealed class TlsCredentials
{
    public const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    private readonly Lock gate = new();
    private Loaded current;

    private TlsCredentials(TlsFiles files, Loaded loaded)
    {
        Files = files;
        current = loaded;
    }

    public TlsFiles Files { get; }

    /// <summary>Reads the files now; a missing, unreadable or mismatched file is a <see cref="CertificateFileException"/>.</summary>
    public static TlsCredentials Load(TlsFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        return new TlsCredentials(files, Read(files));
    }

    /// <summary>Client-side credentials: trust <paramref name="trustedCaFile"/> (null: the system's roots) and present
    /// <paramref name="certFile"/> when given (the server may require it).</summary>
    public static TlsCredentials ForClient(string? trustedCaFile, string? certFile, string? keyFile)
    {
        if ((certFile is null) != (keyFile is null))
        {
            throw new CertificateFileException("a client certificate needs both its certificate file and its key file");
        }

        var files = new TlsFiles(certFile ?? "", keyFile ?? "", trustedCaFile, ClientCertAuth: false);
        return new TlsCredentials(files, Read(files));
    }

    /// <summary>This side's certificate (with its key) as the files hold it now; null for a client without one.</summary>
    public X509Certificate2? Certificate => Refresh().Certificate;

    /// <summary>The CA bundle as the file holds it now; null trusts the system's roots.</summary>
    public X509Certificate2Collection? TrustedRoots => Refresh().Roots;

    /// <summary>Counts reloads that took effect (tests and metrics watch it).</summary>
    public int Reloads { get; private set; }

    /// <summary>What a listener offers one new connection.</summary>
    public SslServerAuthenticationOptions ServerOptions() => new()
    {
        ServerCertificate = Certificate ?? throw new InvalidOperationException("a TLS listener needs a certificate"),
        ClientCertificateRequired = Files.ClientCertAuth,
        EnabledSslProtocols = Protocols,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, certificate, _, errors) => !Files.ClientCertAuth || IsTrusted(certificate, errors, checkName: false),
    };

    /// <summary>What this side offers when it dials <paramref name="targetHost"/>: the server's certificate must chain to
    /// the trusted CA and name that host (a DNS or IP SAN), as etcd checks its peers.</summary>
    public SslClientAuthenticationOptions ClientOptions(string targetHost) => new()
    {
        TargetHost = targetHost,
        EnabledSslProtocols = Protocols,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        ClientCertificates = Certificate is { } own ? [own] : null,
        RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors, checkName: true),
    };

    /// <summary>Kestrel's settings for a client listener on these credentials.</summary>
    public HttpsConnectionAdapterOptions KestrelOptions() => new()
    {
        ServerCertificateSelector = (_, _) => Certificate,
        ClientCertificateMode = Files.ClientCertAuth ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.NoCertificate,
        ClientCertificateValidation = (certificate, _, errors) => !Files.ClientCertAuth || IsTrusted(certificate, errors, checkName: false),
        SslProtocols = Protocols,
        CheckCertificateRevocation = false,
    };

    /// <summary>An HTTP handler for gRPC channels dialled with these credentials (internal calls between members, the CLI).</summary>
    public SocketsHttpHandler HttpHandler()
    {
        var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        handler.SslOptions.EnabledSslProtocols = Protocols;
        handler.SslOptions.CertificateRevocationCheckMode = X509RevocationMode.NoCheck;
        handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => Certificate!;
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors, checkName: true);
        return handler;
    }

    /// <summary>
    /// Whether a certificate the other side presented chains to the trusted CA (the system's roots when none is
    /// configured) and, for a server we dialled, names the host we dialled.
    /// </summary>
    public bool IsTrusted(X509Certificate? presented, SslPolicyErrors errors, bool checkName) =>
        Bulwark.Api.Security.CustomCaTrust.IsTrusted(presented, errors, TrustedRoots, checkName);

    private Loaded Refresh()
    {
        var stamp = Stamp(Files);
        lock (gate)
        {
            if (stamp == current.Stamp)
            {
                return current;
            }

            try
            {
                current = Read(Files) with { Stamp = stamp };
                Reloads++;
            }
            catch (CertificateFileException)
            {
                // Caught mid-rotation (or broken): keep serving the last good pair; the next connection tries again.
            }

            return current;
        }
    }

    private static Loaded Read(TlsFiles files)
    {
        var stamp = Stamp(files);
        var certificate = files.CertFile.Length > 0 ? CertificateFiles.LoadPair(files.CertFile, files.KeyFile) : null;
        var roots = files.TrustedCaFile is { } ca ? CertificateFiles.LoadBundle(ca) : null;
        return new Loaded(certificate, roots, stamp);
    }

    /// <summary>Write times and lengths of the files: a change in any of them means a rotation to pick up.</summary>
    private static string Stamp(TlsFiles files) => string.Join('|', new[] { files.CertFile, files.KeyFile, files.TrustedCaFile }
        .Where(f => !string.IsNullOrEmpty(f))
        .Select(f => new FileInfo(f!) is { Exists: true } info ? $"{info.LastWriteTimeUtc.Ticks}:{info.Length}" : "absent"));

    private sealed record Loaded(X509Certificate2? Certificate, X509Certificate2Collection? Roots, string Stamp);
}
