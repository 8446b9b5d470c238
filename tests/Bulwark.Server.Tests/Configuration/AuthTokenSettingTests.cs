using System.Security.Cryptography;
using Bulwark.Kv.Auth;
using Bulwark.Server.Configuration;
using Bulwark.Server.Security;

namespace Bulwark.Server.Tests.Configuration;

/// <summary>
/// --auth-token as etcd spells it (simple, or jwt with its options), from a flag, BULWARK_AUTH_TOKEN or the config
/// file, and every broken JWT setup refused at load with a message naming --auth-token, the option and the file.
/// </summary>
public sealed class AuthTokenSettingTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("bulwark-jwtconf-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static NodeOptions Load(string[] args, Dictionary<string, string>? env = null, Dictionary<string, string>? files = null) =>
        NodeConfigurationLoader.Load(args, env ?? [], path => files is not null && files.TryGetValue(path, out var text) ? text : throw new FileNotFoundException($"no such file {path}"));

    private string Write(string name, string text)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private (string Private, string Public) RsaPair(string name, int bits = 2048)
    {
        using var rsa = RSA.Create(bits);
        return (Write(name + ".key", rsa.ExportPkcs8PrivateKeyPem()), Write(name + ".pub", rsa.ExportSubjectPublicKeyInfoPem()));
    }

    private (string Private, string Public) EcPair(string name, ECCurve curve)
    {
        using var ec = ECDsa.Create(curve);
        return (Write(name + ".key", ec.ExportECPrivateKeyPem()), Write(name + ".pub", ec.ExportSubjectPublicKeyInfoPem()));
    }

    [Fact]
    public void Simple_is_the_default_and_jwt_is_read_from_a_flag_the_environment_or_the_file()
    {
        Assert.Null(Load([]).AuthToken);
        Assert.Null(Load(["--auth-token", "simple"]).AuthToken);

        var (priv, pub) = EcPair("es", ECCurve.NamedCurves.nistP256);
        var spec = $"jwt,pub-key={pub},priv-key={priv},sign-method=ES256,ttl=10m";
        var fromFlag = Load(["--auth-token", spec]).AuthToken!;
        Assert.Equal(("ES256", pub, priv, TimeSpan.FromMinutes(10)), (fromFlag.SignMethod.Name, fromFlag.PublicKeyFile, fromFlag.PrivateKeyFile, fromFlag.Ttl));
        Assert.Equal(fromFlag, Load([], env: new() { ["BULWARK_AUTH_TOKEN"] = spec }).AuthToken);
        Assert.Equal(fromFlag, Load(["--config-file", "c.json"], files: new() { ["c.json"] = $"{{\"auth-token\": \"{spec}\"}}" }).AuthToken);
        // The flag wins over the environment, as for every setting.
        Assert.Null(Load(["--auth-token", "simple"], env: new() { ["BULWARK_AUTH_TOKEN"] = spec }).AuthToken);

        // Default ttl is etcd's 5 minutes; the public key alone makes a verify-only member.
        var verifyOnly = Load(["--auth-token", $"jwt,pub-key={pub},sign-method=ES256"]).AuthToken!;
        Assert.Equal(JwtTokens.DefaultTtl, verifyOnly.Ttl);
        using (var tokens = JwtKeyFiles.Load(verifyOnly))
        {
            Assert.False(tokens.CanIssue);
        }

        // The private key alone both signs and verifies.
        using var signer = JwtKeyFiles.Load(Load(["--auth-token", $"jwt,priv-key={priv},sign-method=ES256"]).AuthToken!);
        Assert.True(signer.CanIssue);
        Assert.Equal(new TokenHolder("alice", 4), signer.Verify(signer.Issue("alice", 4)));
    }

    [Fact]
    public void Every_broken_jwt_setting_is_refused_naming_the_option_and_the_file()
    {
        var (rsaPriv, rsaPub) = RsaPair("rsa");
        var (_, otherPub) = RsaPair("other");
        var (smallPriv, _) = RsaPair("small", 1024);
        var (ecPriv, ecPub) = EcPair("ec", ECCurve.NamedCurves.nistP256);
        var (p384Priv, _) = EcPair("p384", ECCurve.NamedCurves.nistP384);
        var garbage = Write("garbage.pem", "not a key\n");
        var absent = Path.Combine(dir, "absent.pem");

        (string Spec, string Expected)[] catalogue =
        [
            ("", "--auth-token: is empty"),
            ("token", "--auth-token: 'token' is not a token type"),
            ("simple,ttl=5m", "--auth-token: simple tokens take no options"),
            ($"jwt,pub-key={rsaPub}", "--auth-token: jwt needs sign-method="),
            ($"jwt,pub-key={rsaPub},sign-method=RS999", "--auth-token: sign-method 'RS999' is not supported; use one of RS256, RS384"),
            ($"jwt,pub-key={rsaPub},sign-method=HS256", "(HMAC methods would give every member a secret that forges tokens)"),
            ("jwt,sign-method=RS256", "--auth-token: jwt needs pub-key=PATH"),
            ($"jwt,pub-key={rsaPub},sign-method=RS256,colour=blue", "--auth-token: unknown jwt option 'colour'"),
            ($"jwt,pub-key={rsaPub},pub-key={rsaPub},sign-method=RS256", "--auth-token: jwt option pub-key is given twice"),
            ($"jwt,pub-key=,sign-method=RS256", "--auth-token: jwt option pub-key has no value"),
            ($"jwt,pub-key={rsaPub},sign-method=RS256,ttl=soon", "--auth-token: ttl 'soon' is not a positive duration"),
            ($"jwt,pub-key={absent},sign-method=RS256", $"--auth-token: pub-key file '{absent}' does not exist"),
            ($"jwt,pub-key={dir},sign-method=RS256", $"--auth-token: cannot read pub-key file '{dir}'"),
            ($"jwt,pub-key={garbage},sign-method=RS256", $"--auth-token: pub-key file '{garbage}' holds no PEM public key"),
            ($"jwt,priv-key={rsaPub},sign-method=RS256", $"--auth-token: priv-key file '{rsaPub}' holds a PEM \"PUBLIC KEY\", not a private key"),
            ($"jwt,pub-key={ecPub},sign-method=RS256", $"--auth-token: pub-key file '{ecPub}' holds no PEM RSA public key or certificate for RS256"),
            ($"jwt,priv-key={rsaPriv},sign-method=ES256", $"--auth-token: priv-key file '{rsaPriv}' holds no PEM ECDSA private key for ES256"),
            ($"jwt,priv-key={p384Priv},sign-method=ES256", $"--auth-token: priv-key file '{p384Priv}' does not suit sign-method ES256: it holds an ECDSA P-384 key; ES256 needs an ECDSA P-256 key"),
            ($"jwt,priv-key={smallPriv},sign-method=PS256", "its RSA key has 1024 bits; PS256 needs at least 2048"),
            ($"jwt,pub-key={otherPub},priv-key={rsaPriv},sign-method=RS256", $"--auth-token: priv-key '{rsaPriv}' and pub-key '{otherPub}' are not a key pair"),
        ];

        foreach (var (spec, expected) in catalogue)
        {
            var e = Assert.Throws<ConfigurationException>(() => Load(["--auth-token", spec]));
            Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), $"{spec}: '{e.Message}' does not contain '{expected}'");
            Assert.Equal(NodeSettings.AuthToken, e.Setting);
        }

        // The controls: the same files in the right combinations load.
        Assert.NotNull(Load(["--auth-token", $"jwt,pub-key={rsaPub},priv-key={rsaPriv},sign-method=PS512"]).AuthToken);
        Assert.NotNull(Load(["--auth-token", $"jwt,pub-key={ecPub},priv-key={ecPriv},sign-method=ES256"]).AuthToken);
    }
}
