using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Bulwark.Kv.Auth;

namespace Bulwark.Kv.Tests;

/// <summary>
/// JWS tokens as etcd's --auth-token jwt makes them: a round trip for every method, and everything a client could
/// send that is not a valid, current token of this cluster's key refused (null, never an exception).
/// </summary>
public sealed class JwtTokensTests
{
    private static readonly Lazy<RSA> Rsa = new(() => RSA.Create(2048));
    private static readonly Lazy<RSA> OtherRsa = new(() => RSA.Create(2048));

    private static JwtTokens Tokens(string method, TimeProvider? time = null, TimeSpan? ttl = null)
    {
        var m = JwtSignMethod.Find(method)!;
        var key = KeyFor(m);
        return new JwtTokens(m, key, key, ttl, time);
    }

    private static AsymmetricAlgorithm KeyFor(JwtSignMethod method) => method.Kind == JwtKeyKind.Ecdsa
        ? ECDsa.Create(method.CurveBits switch { 256 => ECCurve.NamedCurves.nistP256, 384 => ECCurve.NamedCurves.nistP384, _ => ECCurve.NamedCurves.nistP521 })
        : Rsa.Value;

    private static string Part(string json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));

    private static string Json(string part) => Encoding.UTF8.GetString(Base64Url.DecodeFromChars(part));

    [Theory]
    [InlineData("RS256")]
    [InlineData("RS384")]
    [InlineData("RS512")]
    [InlineData("PS256")]
    [InlineData("PS384")]
    [InlineData("PS512")]
    [InlineData("ES256")]
    [InlineData("ES384")]
    [InlineData("ES512")]
    public void A_token_issued_verifies_with_its_user_and_revision_and_carries_etcds_claims(string method)
    {
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        var tokens = Tokens(method, clock);
        var token = tokens.Issue("alice", 7);

        Assert.Equal(new TokenHolder("alice", 7), tokens.Verify(token));
        var parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        Assert.Equal($"{{\"alg\":\"{method}\",\"typ\":\"JWT\"}}", Json(parts[0]));
        Assert.Equal("{\"exp\":1700000300,\"revision\":7,\"username\":\"alice\"}", Json(parts[1]));
    }

    [Fact]
    public void A_member_with_only_the_public_key_verifies_tokens_but_cannot_issue()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var publicOnly = ECDsa.Create(ec.ExportParameters(includePrivateParameters: false));
        var method = JwtSignMethod.Find("ES256")!;
        var issuer = new JwtTokens(method, ec, ec);
        var verifier = new JwtTokens(method, publicOnly, signingKey: null);

        Assert.True(issuer.CanIssue);
        Assert.False(verifier.CanIssue);
        Assert.Equal(new TokenHolder("bob", 3), verifier.Verify(issuer.Issue("bob", 3)));
        var refused = Assert.Throws<InvalidOperationException>(() => verifier.Issue("bob", 3));
        Assert.Equal(AuthErrors.VerifyOnlyMessage, refused.Message);
    }

    [Fact]
    public void A_tampered_payload_a_swapped_signature_or_another_key_is_refused()
    {
        var tokens = Tokens("RS256");
        var parts = tokens.Issue("alice", 7).Split('.');
        var other = Tokens("RS256").Issue("root", 7).Split('.');

        // The payload rewritten to name root (same header, alice's signature).
        var asRoot = Part(Json(parts[1]).Replace("\"alice\"", "\"root\"", StringComparison.Ordinal));
        Assert.Null(tokens.Verify($"{parts[0]}.{asRoot}.{parts[2]}"));
        // A higher revision, to outlive a password change.
        var later = Part(Json(parts[1]).Replace("\"revision\":7", "\"revision\":99", StringComparison.Ordinal));
        Assert.Null(tokens.Verify($"{parts[0]}.{later}.{parts[2]}"));
        // Another token's signature.
        Assert.Null(tokens.Verify($"{parts[0]}.{parts[1]}.{other[2]}"));

        // Signed by another cluster's key (same method).
        var foreignKey = OtherRsa.Value;
        var foreign = new JwtTokens(JwtSignMethod.Find("RS256")!, foreignKey, foreignKey);
        Assert.Null(tokens.Verify(foreign.Issue("root", 7)));
        Assert.NotNull(foreign.Verify(foreign.Issue("root", 7)));
    }

    [Fact]
    public void An_expired_token_is_refused_from_the_second_after_its_exp()
    {
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        var tokens = Tokens("ES256", clock, TimeSpan.FromMinutes(5));
        var token = tokens.Issue("alice", 2);

        clock.Now = clock.Now.AddSeconds(300); // exp itself: still valid, as etcd's library has it
        Assert.NotNull(tokens.Verify(token));
        clock.Now = clock.Now.AddSeconds(1);
        Assert.Null(tokens.Verify(token));
    }

    [Fact]
    public void Alg_none_and_every_other_algorithm_than_the_configured_one_are_refused()
    {
        var tokens = Tokens("RS256");
        var payload = Part("{\"exp\":99999999999,\"revision\":7,\"username\":\"root\"}");
        var signed = tokens.Issue("alice", 7).Split('.');

        Assert.Null(tokens.Verify($"{Part("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{payload}."));
        Assert.Null(tokens.Verify($"{Part("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{payload}.{signed[2]}"));
        Assert.Null(tokens.Verify($"{Part("{\"alg\":\"NONE\"}")}.{payload}.{signed[2]}"));

        // The key-confusion attack: HMAC keyed with the (public) RSA key's bytes.
        var header = Part("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
        var mac = HMACSHA256.HashData(Rsa.Value.ExportSubjectPublicKeyInfo(), Encoding.ASCII.GetBytes($"{header}.{payload}"));
        Assert.Null(tokens.Verify($"{header}.{payload}.{Base64Url.EncodeToString(mac)}"));

        // A PS256 signature over the same input presented as RS256 (or the header switched to PS256).
        var pss = Tokens("PS256").Issue("alice", 7).Split('.');
        Assert.Null(tokens.Verify($"{signed[0]}.{pss[1]}.{pss[2]}"));
        Assert.Null(tokens.Verify(string.Join('.', pss)));

        // A header with the right alg but a critical extension this code does not know.
        var critical = Part("{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"exp\":1}");
        Assert.Null(tokens.Verify($"{critical}.{signed[1]}.{signed[2]}"));
    }

    [Fact]
    public void Malformed_tokens_are_refused_without_an_exception()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var tokens = new JwtTokens(JwtSignMethod.Find("ES256")!, ec, ec);
        var valid = tokens.Issue("alice", 7).Split('.');

        string Signed(string header, string payload)
        {
            // Correctly signed by the cluster's key, so only the content is wrong.
            var signingInput = Encoding.ASCII.GetBytes($"{header}.{payload}");
            var signature = ec.SignData(signingInput, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            return $"{header}.{payload}.{Base64Url.EncodeToString(signature)}";
        }

        var goodHeader = Part("{\"alg\":\"ES256\",\"typ\":\"JWT\"}");
        var catalogue = new List<string?>
        {
            null,
            "",
            "not a token",
            "abcdefghijklmnop.42",
            "a.b",
            "a.b.c.d",
            "..",
            $"{valid[0]}.{valid[1]}",
            $"{valid[0]}.{valid[1]}.{valid[2]}.",
            $"{valid[0]}.{valid[1]}.!!!",
            $"***.{valid[1]}.{valid[2]}",
            $"{valid[0]}.{valid[1]}.{valid[2]}=",
            $"{Part("not json")}.{valid[1]}.{valid[2]}",
            $"{Part("[\"ES256\"]")}.{valid[1]}.{valid[2]}",
            $"{Part("{\"alg\":256}")}.{valid[1]}.{valid[2]}",
            new string('a', JwtTokens.MaxTokenChars + 1),
            $"{valid[0]}.{valid[1]}.{new string('A', 4000)}",
        };
        var (good, expTooBig) = (Part("{\"exp\":99999999999,\"revision\":7,\"username\":\"alice\"}"), Part("{\"exp\":1e400,\"revision\":7,\"username\":\"alice\"}"));
        catalogue.AddRange(new[]
        {
            Signed(goodHeader, Part("not json")),
            Signed(goodHeader, Part("[1,2,3]")),
            Signed(goodHeader, Part("{\"exp\":99999999999,\"revision\":7}")),
            Signed(goodHeader, Part("{\"exp\":99999999999,\"revision\":7,\"username\":\"\"}")),
            Signed(goodHeader, Part("{\"exp\":99999999999,\"revision\":7,\"username\":42}")),
            Signed(goodHeader, Part("{\"exp\":99999999999,\"revision\":-1,\"username\":\"alice\"}")),
            Signed(goodHeader, Part("{\"exp\":99999999999,\"revision\":\"7\",\"username\":\"alice\"}")),
            Signed(goodHeader, Part("{\"exp\":99999999999,\"revision\":7.5,\"username\":\"alice\"}")),
            Signed(goodHeader, Part("{\"revision\":7,\"username\":\"alice\"}")),
            Signed(goodHeader, Part("{\"exp\":\"tomorrow\",\"revision\":7,\"username\":\"alice\"}")),
            Signed(goodHeader, expTooBig),
        });

        foreach (var token in catalogue)
        {
            Assert.True(tokens.Verify(token) is null, $"accepted: {token?[..Math.Min(token.Length, 120)]}");
        }

        // The control: the same helper's signature over good claims is accepted, so the refusals above are the content's.
        Assert.Equal(new TokenHolder("alice", 7), tokens.Verify(Signed(goodHeader, good)));
    }

    [Fact]
    public void A_key_that_does_not_suit_the_method_is_refused()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var small = RSA.Create(1024);
        Assert.Throws<ArgumentException>(() => new JwtTokens(JwtSignMethod.Find("ES256")!, p384, p384));
        Assert.Throws<ArgumentException>(() => new JwtTokens(JwtSignMethod.Find("RS256")!, p384, p384));
        Assert.Throws<ArgumentException>(() => new JwtTokens(JwtSignMethod.Find("ES384")!, Rsa.Value, Rsa.Value));
        Assert.Throws<ArgumentException>(() => new JwtTokens(JwtSignMethod.Find("PS256")!, small, small));
        Assert.Null(JwtSignMethod.Find("HS256"));
        Assert.Null(JwtSignMethod.Find("none"));
        Assert.Null(JwtSignMethod.Find("rs256"));
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
