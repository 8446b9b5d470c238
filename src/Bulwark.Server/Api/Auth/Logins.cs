using System.Security.Cryptography;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv.Auth;
using Bulwark.Server.Hosting;

namespace Bulwark.Server.Api.Auth;

/// <summary>
/// Issuing tokens, with the member's scheme: a simple token is recorded by every member when its login command applies
/// (so it is proposed); a JWT is signed here and needs no command (it carries its user and auth revision itself).
/// </summary>
internal static class Logins
{
    private const string TokenLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private static long tokenSequence;

    /// <summary>etcd's simple token: random letters and a sequence number.</summary>
    public static string NewSimpleToken() => $"{RandomNumberGenerator.GetString(TokenLetters, 16)}.{Interlocked.Increment(ref tokenSequence)}";

    /// <summary>
    /// A token for <paramref name="user"/>, named by a client certificate this member verified, so a call it forwards to
    /// the leader carries that user (the leader sees the forwarding member's certificate, not the client's). Simple
    /// tokens: a certificate login through the log, so the leader knows the token when it has applied it (it applies
    /// the login before it can see the forwarded call: the call is sent after the login committed here). JWT: signed
    /// here, at the auth revision this member has.
    /// </summary>
    public static async Task<string> CertificateTokenAsync(NodeHost node, string user, CancellationToken cancellationToken)
    {
        if (node.Options.Jwt is { } jwt)
        {
            if (!jwt.CanIssue)
            {
                throw AuthErrors.VerifyOnly();
            }

            return jwt.Issue(user, node.Read(store => store.Auth.Revision));
        }

        var login = new AuthenticateCommand { Name = user, SimpleToken = NewSimpleToken(), CertificateLogin = true };
        var (response, _) = await ApiContext.ProposeAsync<AuthenticateResponse>(node, new RaftCommand { Authenticate = login }, caller: null,
            cancellationToken).ConfigureAwait(false);
        return response.Token;
    }
}
