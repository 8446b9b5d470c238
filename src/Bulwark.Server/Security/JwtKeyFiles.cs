using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Bulwark.Kv.Auth;
using Bulwark.Server.Configuration;

namespace Bulwark.Server.Security;

/// <summary>
/// Reads the PEM key files of --auth-token jwt and makes the member's <see cref="JwtTokens"/>, refusing (with a
/// <see cref="ConfigurationException"/> naming --auth-token, the option and the file) a missing or unreadable file, a
/// file without a PEM key of the kind the sign-method needs, a private-key option given a public key, and a public key
/// that is not the private key's. Keys are read once, at start: rotating them is a restart of each member.
/// </summary>
public static class JwtKeyFiles
{
    private static readonly string[] PrivateLabels = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];
    private static readonly string[] PublicLabels = ["PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE"];

    public static JwtTokens Load(AuthTokenSetting setting)
    {
        ArgumentNullException.ThrowIfNull(setting);
        var method = setting.SignMethod;
        AsymmetricAlgorithm? privateKey = null;
        AsymmetricAlgorithm? publicKey = null;
        try
        {
            privateKey = setting.PrivateKeyFile is { } priv ? Read("priv-key", priv, method, PrivateLabels) : null;
            publicKey = setting.PublicKeyFile is { } pub ? Read("pub-key", pub, method, PublicLabels) : null;
            if (privateKey is not null && publicKey is not null && !ArePair(method, privateKey, publicKey))
            {
                throw Error($"priv-key '{setting.PrivateKeyFile}' and pub-key '{setting.PublicKeyFile}' are not a key pair");
            }

            var tokens = new JwtTokens(method, publicKey ?? privateKey!, privateKey, setting.Ttl);
            privateKey = publicKey = null; // the tokens own them now
            return tokens;
        }
        finally
        {
            privateKey?.Dispose();
            publicKey?.Dispose();
        }
    }

    private static AsymmetricAlgorithm Read(string option, string path, JwtSignMethod method, string[] labels)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Error($"{option} file '{path}' does not exist");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw Error($"cannot read {option} file '{path}': {e.Message}");
        }

        var wanted = option == "priv-key" ? "private key" : "public key or certificate";
        if (!PemEncoding.TryFind(text, out var found))
        {
            throw Error($"{option} file '{path}' holds no PEM {wanted}");
        }

        var label = text[found.Label];
        if (!labels.Contains(label))
        {
            throw Error($"{option} file '{path}' holds a PEM \"{label}\", not a {wanted}" +
                (label == "ENCRYPTED PRIVATE KEY" ? " (encrypted keys are not supported)" : ""));
        }

        AsymmetricAlgorithm key;
        try
        {
            key = label == "CERTIFICATE" ? FromCertificate(text) : FromPem(text, method);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw Error($"{option} file '{path}' holds no PEM {(method.Kind == JwtKeyKind.Ecdsa ? "ECDSA" : "RSA")} {wanted} for {method.Name} ({e.Message})");
        }

        if (method.Mismatch(key) is { } why)
        {
            key.Dispose();
            throw Error($"{option} file '{path}' does not suit sign-method {method.Name}: {why}");
        }

        return key;

        AsymmetricAlgorithm FromCertificate(string pem)
        {
            using var certificate = X509Certificate2.CreateFromPem(pem);
            return (AsymmetricAlgorithm?)certificate.GetRSAPublicKey() ?? certificate.GetECDsaPublicKey()
                ?? throw new CryptographicException("the certificate's key is neither RSA nor ECDSA");
        }
    }

    private static AsymmetricAlgorithm FromPem(string pem, JwtSignMethod method)
    {
        AsymmetricAlgorithm key = method.Kind == JwtKeyKind.Ecdsa ? ECDsa.Create() : RSA.Create();
        try
        {
            key.ImportFromPem(pem);
            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Whether the public key checks what the private key signs (for RSA and ECDSA alike).</summary>
    private static bool ArePair(JwtSignMethod method, AsymmetricAlgorithm privateKey, AsymmetricAlgorithm publicKey)
    {
        var probe = RandomNumberGenerator.GetBytes(32);
        try
        {
            return method.Verify(publicKey, probe, method.Sign(privateKey, probe));
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static ConfigurationException Error(string message) => new(NodeSettings.AuthToken, message);
}
