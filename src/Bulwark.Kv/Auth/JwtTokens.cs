using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Bulwark.Kv.Auth;

/// <summary>
/// etcd's "jwt" tokens: JWS compact serialization (RFC 7515) of the claims etcd 3.4 puts in them, <c>username</c>,
/// <c>revision</c> (the auth revision at login) and <c>exp</c> (login time plus the ttl, in Unix seconds), signed with
/// the member's private key. Any member holding the public key checks a token by itself: no per-token state is
/// replicated or kept. A token goes stale when the auth revision moves past its <c>revision</c> (any change of users,
/// roles or the switch), which the caller of <see cref="Verify"/> refuses with etcd's "revision of auth store is old";
/// clients then log in again. A member given only the public key verifies but cannot issue (<see cref="CanIssue"/>).
/// </summary>
public sealed class JwtTokens : ITokenScheme, IDisposable
{
    /// <summary>etcd's default ttl for JWTs (5 minutes).</summary>
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromMinutes(5);

    /// <summary>Longer than any token this code issues for a sane user name; anything longer is refused unparsed.</summary>
    public const int MaxTokenChars = 16 * 1024;

    private readonly AsymmetricAlgorithm verifyKey;
    private readonly AsymmetricAlgorithm? signingKey;
    private readonly TimeProvider time;
    private readonly byte[] encodedHeader;

    // .NET does not promise that one key object may sign or verify on several threads at once.
    private readonly Lock keyLock = new();

    /// <param name="method">The one algorithm tokens are signed with and the only one accepted.</param>
    /// <param name="verifyKey">The public key (or a private key, whose public half is used).</param>
    /// <param name="signingKey">The private key; null makes a verify-only member.</param>
    /// <exception cref="ArgumentException">A key that does not suit <paramref name="method"/>.</exception>
    public JwtTokens(JwtSignMethod method, AsymmetricAlgorithm verifyKey, AsymmetricAlgorithm? signingKey, TimeSpan? ttl = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(verifyKey);
        foreach (var key in new[] { verifyKey, signingKey })
        {
            if (key is not null && method.Mismatch(key) is { } why)
            {
                throw new ArgumentException($"the key does not suit {method.Name}: {why}", key == verifyKey ? nameof(verifyKey) : nameof(signingKey));
            }
        }

        Method = method;
        this.verifyKey = verifyKey;
        this.signingKey = signingKey;
        Ttl = ttl ?? DefaultTtl;
        if (Ttl <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ttl), Ttl, "a token's lifetime must be positive");
        }

        this.time = time ?? TimeProvider.System;
        encodedHeader = Encode(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["alg"] = method.Name, ["typ"] = "JWT" }));
    }

    public JwtSignMethod Method { get; }

    public TimeSpan Ttl { get; }

    /// <summary>False on a member given only the public key.</summary>
    public bool CanIssue => signingKey is not null;

    /// <summary>A token for <paramref name="user"/> standing for auth revision <paramref name="authRevision"/>, valid for <see cref="Ttl"/>.</summary>
    /// <exception cref="InvalidOperationException">This member has no private key (<see cref="CanIssue"/>).</exception>
    public string Issue(string user, ulong authRevision)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        var key = signingKey ?? throw new InvalidOperationException(AuthErrors.VerifyOnlyMessage);
        var expires = time.GetUtcNow().Add(Ttl).ToUnixTimeSeconds();
        using var payload = new MemoryStream();
        using (var json = new Utf8JsonWriter(payload))
        {
            // etcd's claims, in the order its jwt library writes them (sorted by name).
            json.WriteStartObject();
            json.WriteNumber("exp", expires);
            json.WriteNumber("revision", authRevision);
            json.WriteString("username", user);
            json.WriteEndObject();
        }

        var signingInput = Concat(encodedHeader, Encode(payload.ToArray()));
        byte[] signature;
        lock (keyLock)
        {
            signature = Method.Sign(key, signingInput);
        }

        return Encoding.ASCII.GetString(signingInput) + "." + Encoding.ASCII.GetString(Encode(signature));
    }

    /// <inheritdoc/>
    public TokenHolder? Verify(string token, AuthStore auth) => Verify(token);

    /// <summary>
    /// The claims of a token this cluster's key signed with <see cref="Method"/> and that has not expired; null for
    /// anything else: not three dot-separated base64url parts, a header that is not a JSON object naming exactly
    /// <see cref="Method"/> (so "none" and every other algorithm are refused) or that marks extensions critical, a bad
    /// signature, or claims that are missing, of the wrong type or expired.
    /// </summary>
    public TokenHolder? Verify(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenChars)
        {
            return null;
        }

        var parts = token.Split('.');
        if (parts.Length != 3 || parts.Any(p => p.Length == 0))
        {
            return null;
        }

        try
        {
            if (!HeaderNamesMethod(Decode(parts[0])))
            {
                return null;
            }

            var signingInput = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
            var signature = Decode(parts[2]);
            bool signed;
            lock (keyLock)
            {
                signed = Method.Verify(verifyKey, signingInput, signature);
            }

            return signed ? Claims(Decode(parts[1])) : null;
        }
        catch (Exception e) when (e is FormatException or JsonException or CryptographicException or ArgumentException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        verifyKey.Dispose();
        signingKey?.Dispose();
    }

    private bool HeaderNamesMethod(byte[] header)
    {
        using var document = JsonDocument.Parse(header);
        var root = document.RootElement;
        return root.ValueKind == JsonValueKind.Object
            && root.TryGetProperty("alg", out var alg) && alg.ValueKind == JsonValueKind.String && alg.GetString() == Method.Name
            && !root.TryGetProperty("crit", out _);
    }

    private TokenHolder? Claims(byte[] payload)
    {
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("username", out var username) || username.ValueKind != JsonValueKind.String || username.GetString() is not { Length: > 0 } user
            || !root.TryGetProperty("revision", out var revision) || revision.ValueKind != JsonValueKind.Number || !revision.TryGetUInt64(out var authRevision)
            || !root.TryGetProperty("exp", out var exp) || exp.ValueKind != JsonValueKind.Number || !exp.TryGetDouble(out var expires) || !double.IsFinite(expires))
        {
            return null;
        }

        // As etcd's jwt library: valid up to and including the second named by exp. A token without exp is refused
        // (etcd 3.4 would take it forever; every token it or Bulwark issues has one).
        return time.GetUtcNow().ToUnixTimeSeconds() <= expires ? new TokenHolder(user, authRevision) : null;
    }

    private static byte[] Encode(byte[] data) => Encoding.ASCII.GetBytes(Base64Url.EncodeToString(data));

    /// <summary>Strict base64url as JWS has it: no padding (the decoder would take it), nothing outside the alphabet.</summary>
    private static byte[] Decode(string part) =>
        part.Contains('=', StringComparison.Ordinal) ? throw new FormatException("padded base64url") : Base64Url.DecodeFromChars(part);

    private static byte[] Concat(byte[] header, byte[] payload)
    {
        var result = new byte[header.Length + 1 + payload.Length];
        header.CopyTo(result, 0);
        result[header.Length] = (byte)'.';
        payload.CopyTo(result, header.Length + 1);
        return result;
    }
}
