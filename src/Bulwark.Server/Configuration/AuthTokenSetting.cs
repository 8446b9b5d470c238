using Bulwark.Kv.Auth;

namespace Bulwark.Server.Configuration;

/// <summary>
/// etcd's --auth-token: "simple" (the default: random tokens every member records at login) or
/// "jwt,pub-key=PATH,priv-key=PATH,sign-method=METHOD[,ttl=DURATION]" (signed tokens, <see cref="JwtTokens"/>). This is
/// the parsed JWT form; its key files are read and checked by <see cref="Security.JwtKeyFiles"/>.
/// </summary>
/// <param name="PublicKeyFile">PEM public key (or certificate) tokens are checked with; may be left out when the private key is given.</param>
/// <param name="PrivateKeyFile">PEM private key tokens are signed with; without it the member verifies but cannot issue.</param>
public sealed record AuthTokenSetting(JwtSignMethod SignMethod, string? PublicKeyFile, string? PrivateKeyFile, TimeSpan Ttl)
{
    private const string Syntax = "use simple or jwt,pub-key=PATH,priv-key=PATH,sign-method=RS256|RS384|RS512|PS256|PS384|PS512|ES256|ES384|ES512[,ttl=5m]";

    /// <summary>The JWT setting <paramref name="text"/> describes, or null for simple tokens.</summary>
    /// <exception cref="ConfigurationException">Anything but a well-formed simple or jwt setting.</exception>
    public static AuthTokenSetting? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var items = text.Split(',', StringSplitOptions.TrimEntries);
        switch (items[0])
        {
            case "simple" when items.Length == 1:
                return null;
            case "simple":
                throw Error($"simple tokens take no options ('{string.Join(',', items[1..])}')");
            case "jwt":
                break;
            case "":
                throw Error($"is empty; {Syntax}");
            default:
                throw Error($"'{items[0]}' is not a token type; {Syntax}");
        }

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in items[1..])
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            var (name, value) = eq > 0 ? (item[..eq], item[(eq + 1)..].Trim()) : (item, "");
            if (name is not ("pub-key" or "priv-key" or "sign-method" or "ttl"))
            {
                throw Error($"unknown jwt option '{name}' (the options are pub-key, priv-key, sign-method and ttl)");
            }

            if (value.Length == 0)
            {
                throw Error($"jwt option {name} has no value ({name}=...)");
            }

            if (!options.TryAdd(name, value))
            {
                throw Error($"jwt option {name} is given twice");
            }
        }

        if (!options.TryGetValue("sign-method", out var methodName))
        {
            throw Error("jwt needs sign-method=RS256|RS384|RS512|PS256|PS384|PS512|ES256|ES384|ES512");
        }

        var method = JwtSignMethod.Find(methodName) ?? throw Error(
            $"sign-method '{methodName}' is not supported; use one of {string.Join(", ", JwtSignMethod.All.Select(m => m.Name))}" +
            (methodName.StartsWith("HS", StringComparison.Ordinal) ? " (HMAC methods would give every member a secret that forges tokens)" : ""));
        var publicKey = options.GetValueOrDefault("pub-key");
        var privateKey = options.GetValueOrDefault("priv-key");
        if (publicKey is null && privateKey is null)
        {
            throw Error("jwt needs pub-key=PATH (to check tokens) and, on members that issue them, priv-key=PATH");
        }

        var ttl = JwtTokens.DefaultTtl;
        if (options.TryGetValue("ttl", out var ttlText))
        {
            var (ok, parsed) = DurationSyntax.TryParse(ttlText);
            if (!ok || parsed <= TimeSpan.Zero)
            {
                throw Error($"ttl '{ttlText}' is not a positive duration such as 30s, 5m or 1h");
            }

            ttl = parsed;
        }

        return new AuthTokenSetting(method, publicKey, privateKey, ttl);
    }

    private static ConfigurationException Error(string message) => new(NodeSettings.AuthToken, message);
}
