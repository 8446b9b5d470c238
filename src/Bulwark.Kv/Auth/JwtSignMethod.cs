using System.Security.Cryptography;

namespace Bulwark.Kv.Auth;

/// <summary>The kind of key a JWT signing method needs.</summary>
public enum JwtKeyKind
{
    /// <summary>RSA, signatures with PKCS#1 v1.5 padding (RS256/384/512).</summary>
    Rsa,

    /// <summary>RSA, signatures with PSS padding, salt as long as the hash (PS256/384/512).</summary>
    RsaPss,

    /// <summary>ECDSA on the NIST curve of the method's size, signatures as r‖s (ES256/384/512).</summary>
    Ecdsa,
}

/// <summary>
/// One of the JWS algorithms etcd's --auth-token jwt accepts with an asymmetric key (RFC 7518 names, compared exactly).
/// The HMAC ones (HS256...) are not offered: they need the same secret on every member and let any member forge tokens
/// without a private key; etcd 3.4 also takes them, Bulwark refuses them at start.
/// </summary>
public sealed record JwtSignMethod(string Name, JwtKeyKind Kind, HashAlgorithmName Hash, int CurveBits = 0)
{
    public static IReadOnlyList<JwtSignMethod> All { get; } =
    [
        new("RS256", JwtKeyKind.Rsa, HashAlgorithmName.SHA256),
        new("RS384", JwtKeyKind.Rsa, HashAlgorithmName.SHA384),
        new("RS512", JwtKeyKind.Rsa, HashAlgorithmName.SHA512),
        new("PS256", JwtKeyKind.RsaPss, HashAlgorithmName.SHA256),
        new("PS384", JwtKeyKind.RsaPss, HashAlgorithmName.SHA384),
        new("PS512", JwtKeyKind.RsaPss, HashAlgorithmName.SHA512),
        new("ES256", JwtKeyKind.Ecdsa, HashAlgorithmName.SHA256, 256),
        new("ES384", JwtKeyKind.Ecdsa, HashAlgorithmName.SHA384, 384),
        new("ES512", JwtKeyKind.Ecdsa, HashAlgorithmName.SHA512, 521),
    ];

    /// <summary>The method named exactly <paramref name="name"/> (as the JWS "alg" header spells it), or null.</summary>
    public static JwtSignMethod? Find(string name) => All.FirstOrDefault(m => m.Name == name);

    /// <summary>What key this method needs, for messages ("an RSA key", "an ECDSA P-256 key").</summary>
    public string KeyDescription => Kind == JwtKeyKind.Ecdsa ? $"an ECDSA P-{CurveBits} key" : "an RSA key";

    /// <summary>Why <paramref name="key"/> cannot sign or verify with this method, or null when it can.</summary>
    public string? Mismatch(AsymmetricAlgorithm key) => (Kind, key) switch
    {
        (JwtKeyKind.Rsa or JwtKeyKind.RsaPss, RSA rsa) when rsa.KeySize < MinRsaBits => $"its RSA key has {rsa.KeySize} bits; {Name} needs at least {MinRsaBits}",
        (JwtKeyKind.Rsa or JwtKeyKind.RsaPss, RSA) => null,
        (JwtKeyKind.Ecdsa, ECDsa ec) when ec.KeySize == CurveBits => null,
        (JwtKeyKind.Ecdsa, ECDsa ec) => $"it holds an ECDSA P-{ec.KeySize} key; {Name} needs {KeyDescription}",
        _ => $"it holds {(key is RSA ? "an RSA key" : key is ECDsa ? "an ECDSA key" : "another kind of key")}; {Name} needs {KeyDescription}",
    };

    /// <summary>Below this an RSA signature is forgeable with means within reach (NIST SP 800-131A).</summary>
    public const int MinRsaBits = 2048;

    public byte[] Sign(AsymmetricAlgorithm key, byte[] data) => key switch
    {
        RSA rsa => rsa.SignData(data, Hash, Kind == JwtKeyKind.RsaPss ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1),
        ECDsa ec => ec.SignData(data, Hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
        _ => throw new ArgumentException($"{Name} cannot sign with {key.GetType().Name}", nameof(key)),
    };

    public bool Verify(AsymmetricAlgorithm key, byte[] data, byte[] signature) => key switch
    {
        RSA rsa => rsa.VerifyData(data, signature, Hash, Kind == JwtKeyKind.RsaPss ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1),
        ECDsa ec => ec.VerifyData(data, signature, Hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
        _ => false,
    };
}
