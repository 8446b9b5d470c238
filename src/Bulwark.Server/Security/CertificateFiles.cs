using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Bulwark.Server.Security;

/// <summary>Reads PEM certificates, keys and CA bundles, failing with a <see cref="CertificateFileException"/> that names the file.</summary>
public static class CertificateFiles
{
    /// <summary>The certificate of <paramref name="certFile"/> with the private key of <paramref name="keyFile"/>.</summary>
    public static X509Certificate2 LoadPair(string certFile, string keyFile)
    {
        var certPem = ReadText(certFile, "certificate");
        var keyPem = ReadText(keyFile, "key");
        X509Certificate2 withoutKey;
        try
        {
            withoutKey = X509Certificate2.CreateFromPem(certPem);
        }
        catch (CryptographicException e)
        {
            throw new CertificateFileException($"certificate file '{certFile}' holds no PEM certificate: {e.Message}", e);
        }

        using (withoutKey)
        {
            try
            {
                return X509Certificate2.CreateFromPem(certPem, keyPem);
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException && HasPrivateKey(keyPem))
            {
                throw new CertificateFileException($"key file '{keyFile}' does not match the certificate in '{certFile}' ({withoutKey.Subject}): {e.Message}", e);
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                throw new CertificateFileException($"key file '{keyFile}' holds no PEM private key: {e.Message}", e);
            }
        }
    }

    /// <summary>Every certificate of a PEM bundle (at least one).</summary>
    public static X509Certificate2Collection LoadBundle(string caFile)
    {
        var pem = ReadText(caFile, "trusted CA");
        var bundle = new X509Certificate2Collection();
        try
        {
            bundle.ImportFromPem(pem);
        }
        catch (CryptographicException e)
        {
            throw new CertificateFileException($"trusted CA file '{caFile}' is not a PEM certificate bundle: {e.Message}", e);
        }

        return bundle.Count > 0 ? bundle : throw new CertificateFileException($"trusted CA file '{caFile}' holds no PEM certificate");
    }

    /// <summary>The newest write time of the files, to notice a rotation (null names are skipped).</summary>
    public static DateTime LastWrite(params string?[] files) =>
        files.Where(f => f is not null).Select(f => File.GetLastWriteTimeUtc(f!)).DefaultIfEmpty(DateTime.MinValue).Max();

    private static bool HasPrivateKey(string pem) => pem.Contains("PRIVATE KEY-----", StringComparison.Ordinal);

    private static string ReadText(string path, string what)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CertificateFileException($"cannot read {what} file '{path}': {e.Message}", e);
        }
    }
}
