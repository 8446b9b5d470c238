using System.Security.Cryptography.X509Certificates;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv.Auth;
using Grpc.Core;

namespace Bulwark.Server.Api.Auth;

/// <summary>
/// What a call presents to say who is calling: the "token" metadata etcd clients send (from Authenticate), else the
/// common name of a verified TLS client certificate (etcd's --client-cert-auth; the listener only accepts a client
/// certificate when it is configured to verify one). Resolved against this member's auth state each time it is used.
/// </summary>
public sealed record CallerCredentials(string? Token, string? CertificateUser)
{
    /// <summary>The metadata key etcd clients (clientv3, etcdctl --user) put the token under.</summary>
    public const string TokenHeader = "token";

    /// <summary>No credentials: a call made with none, refused with "user name is empty" while auth is on.</summary>
    public static readonly CallerCredentials None = new(null, null);

    public static CallerCredentials From(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var token = context.RequestHeaders.GetValue(TokenHeader);
        return new CallerCredentials(token, token is null ? CertificateUserOf(context) : null);
    }

    /// <summary>
    /// Who the caller is now, as the auth state sees it (call under the store lock). Auth off: nobody in particular,
    /// which the state machine refuses if auth is on by the time the command applies. A token is checked by the
    /// member's token scheme (<paramref name="tokens"/>; null: the simple tokens this member recorded).
    /// </summary>
    /// <exception cref="Bulwark.Kv.Errors.KvException">etcd's "invalid auth token" for an unknown, expired, forged or
    /// malformed token; "revision of auth store is old" for a token issued before the auth state last changed (a JWT:
    /// how a password or role change reaches tokens no member keeps).</exception>
    public CallerAuth Resolve(AuthStore auth, ITokenScheme? tokens = null)
    {
        ArgumentNullException.ThrowIfNull(auth);
        if (!auth.Enabled)
        {
            return new CallerAuth { AuthRevision = auth.Revision };
        }

        if (Token is not null)
        {
            var holder = (tokens ?? auth.Tokens).Verify(Token, auth) ?? throw AuthErrors.InvalidAuthToken();
            if (holder.AuthRevision < auth.Revision)
            {
                throw AuthErrors.AuthOldRevision();
            }

            return new CallerAuth { User = holder.User, AuthRevision = holder.AuthRevision };
        }

        return CertificateUser is { Length: > 0 } user
            ? new CallerAuth { User = user, AuthRevision = auth.Revision }
            : new CallerAuth();
    }

    /// <summary>The metadata that carries these credentials to another member (a call forwarded to the leader).</summary>
    public void AddTo(Metadata headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (Token is not null)
        {
            headers.Add(TokenHeader, Token);
        }
    }

    /// <summary>The common name of the connection's verified client certificate, or null (plain connection, none sent).</summary>
    internal static string? CertificateUserOf(ServerCallContext context)
    {
        X509Certificate2? certificate;
        try
        {
            certificate = context.GetHttpContext().Connection.ClientCertificate;
        }
        catch (InvalidOperationException)
        {
            // Not served over ASP.NET Core (a test's own ServerCallContext): no connection, no certificate.
            return null;
        }

        return ClientCertificateUser(certificate);
    }

    /// <summary>etcd's AuthInfoFromTLS: the subject's common name names the user.</summary>
    public static string? ClientCertificateUser(X509Certificate2? certificate)
    {
        var name = certificate?.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return string.IsNullOrEmpty(name) ? null : name;
    }
}
