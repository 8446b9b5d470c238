namespace Bulwark.Kv.Auth;

/// <summary>
/// How a member turns the token a client presents into who is calling: etcd's token providers ("simple" tokens a login
/// recorded on every member, <see cref="SimpleTokens"/>; signed "jwt" tokens any member with the public key checks,
/// <see cref="JwtTokens"/>). A member uses one scheme for every token.
/// </summary>
public interface ITokenScheme
{
    /// <summary>
    /// The user a token stands for and the auth revision it was issued at; null when the token is unknown, expired,
    /// forged or malformed (etcd's "invalid auth token"). Never throws for anything a client can send.
    /// </summary>
    TokenHolder? Verify(string token, AuthStore auth);
}

/// <summary>Who a valid token names and the auth revision it stands for (etcd's AuthInfo).</summary>
public readonly record struct TokenHolder(string User, ulong AuthRevision);
