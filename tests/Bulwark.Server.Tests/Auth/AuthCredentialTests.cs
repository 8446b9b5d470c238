using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv;
using Bulwark.Kv.Auth;
using Bulwark.Kv.Errors;
using Bulwark.Server.Api.Auth;
using Grpc.Core;

namespace Bulwark.Server.Tests.Auth;

/// <summary>
/// The pieces of authentication outside the state machine: PBKDF2 password hashes, the user named by a client
/// certificate's common name, and how a call's credentials resolve against the auth state (tokens, certificates, none).
/// </summary>
public sealed class AuthCredentialTests
{
    [Fact]
    public void A_password_hash_is_salted_verifies_only_its_password_and_refuses_malformed_hashes()
    {
        var first = PasswordHash.Hash("s3cret", iterations: 1000);
        var second = PasswordHash.Hash("s3cret", iterations: 1000);
        Assert.NotEqual(first, second); // a fresh salt each time
        Assert.StartsWith("pbkdf2-sha256$1000$", first, StringComparison.Ordinal);
        Assert.True(PasswordHash.Verify("s3cret", first));
        Assert.False(PasswordHash.Verify("s3cret ", first));
        Assert.False(PasswordHash.Verify("", first));
        Assert.False(PasswordHash.Verify("s3cret", "plain"));
        Assert.False(PasswordHash.Verify("s3cret", "pbkdf2-sha256$999999999$AAAA$AAAA")); // a cost no stored hash may ask for
        Assert.False(PasswordHash.Verify("s3cret", "pbkdf2-sha256$1000$not-base64$AAAA"));
        Assert.Contains($"${PasswordHash.DefaultIterations}$", PasswordHash.Hash("x"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_client_certificate_names_its_user_by_common_name()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=alice, O=Bulwark tests", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
        Assert.Equal("alice", CallerCredentials.ClientCertificateUser(certificate));

        var noName = new CertificateRequest("O=Bulwark tests", key, HashAlgorithmName.SHA256);
        using var anonymous = noName.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
        Assert.Null(CallerCredentials.ClientCertificateUser(anonymous));
        Assert.Null(CallerCredentials.ClientCertificateUser(null));
    }

    [Fact]
    public void Credentials_resolve_to_a_token_user_a_certificate_user_or_nobody()
    {
        var machine = new KvStateMachine();
        Assert.True(machine.Apply(new RaftCommand { UserAdd = new AuthUserAddRequest { Name = "root", HashedPassword = PasswordHash.Hash("pw", 1) } }).Succeeded);
        Assert.True(machine.Apply(new RaftCommand { UserGrantRole = new AuthUserGrantRoleRequest { User = "root", Role = "root" } }).Succeeded);
        var auth = machine.Store.Auth;

        // Auth off: nobody in particular, at the current revision (refused at apply if auth is on by then).
        Assert.Equal(new CallerAuth { AuthRevision = auth.Revision }, new CallerCredentials("whatever", null).Resolve(auth));

        Assert.True(machine.Apply(new RaftCommand { AuthEnable = new AuthEnableRequest() }).Succeeded);
        Assert.True(machine.Apply(new RaftCommand { Authenticate = new AuthenticateCommand { Name = "root", SimpleToken = "tok.1", CheckedPasswordHash = auth.PasswordHashOf("root")! } }).Succeeded);
        Assert.Equal(new CallerAuth { User = "root", AuthRevision = auth.Revision }, new CallerCredentials("tok.1", null).Resolve(auth));
        Assert.Equal(new CallerAuth { User = "carol", AuthRevision = auth.Revision }, new CallerCredentials(null, "carol").Resolve(auth));
        Assert.Equal(new CallerAuth(), CallerCredentials.None.Resolve(auth));

        var invalid = Assert.Throws<KvException>(() => new CallerCredentials("forged.7", null).Resolve(auth));
        Assert.Equal((StatusCode.Unauthenticated, AuthErrors.InvalidAuthTokenMessage), (invalid.StatusCode, invalid.Message));

        // A certificate user the store does not know is refused by the check, as etcd refuses it.
        var denied = Assert.Throws<KvException>(() => auth.CheckRead("carol", auth.Revision, "k"u8, default));
        Assert.Equal(AuthErrors.PermissionDeniedMessage, denied.Message);
    }

    [Fact]
    public void A_jwt_resolves_to_its_user_until_the_auth_revision_moves_past_it_and_a_forged_one_never()
    {
        var machine = new KvStateMachine();
        Assert.True(machine.Apply(new RaftCommand { UserAdd = new AuthUserAddRequest { Name = "root", HashedPassword = PasswordHash.Hash("pw", 1) } }).Succeeded);
        Assert.True(machine.Apply(new RaftCommand { UserGrantRole = new AuthUserGrantRoleRequest { User = "root", Role = "root" } }).Succeeded);
        Assert.True(machine.Apply(new RaftCommand { UserAdd = new AuthUserAddRequest { Name = "alice", HashedPassword = PasswordHash.Hash("pw", 1) } }).Succeeded);
        Assert.True(machine.Apply(new RaftCommand { AuthEnable = new AuthEnableRequest() }).Succeeded);
        var auth = machine.Store.Auth;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var jwt = new JwtTokens(JwtSignMethod.Find("ES256")!, key, key);

        var token = jwt.Issue("alice", auth.Revision);
        Assert.Equal(new CallerAuth { User = "alice", AuthRevision = auth.Revision }, new CallerCredentials(token, null).Resolve(auth, jwt));
        // A token from a member ahead of this one (a higher revision) is taken: its revision is checked again at apply.
        var ahead = jwt.Issue("alice", auth.Revision + 1);
        Assert.Equal(auth.Revision + 1, new CallerCredentials(ahead, null).Resolve(auth, jwt).AuthRevision);

        // The JWT scheme knows nothing of simple tokens, and the simple table nothing of JWTs.
        Assert.True(machine.Apply(new RaftCommand { Authenticate = new AuthenticateCommand { Name = "root", SimpleToken = "tok.1", CheckedPasswordHash = auth.PasswordHashOf("root")! } }).Succeeded);
        Assert.Equal(AuthErrors.InvalidAuthTokenMessage, Assert.Throws<KvException>(() => new CallerCredentials("tok.1", null).Resolve(auth, jwt)).Message);
        Assert.Equal(AuthErrors.InvalidAuthTokenMessage, Assert.Throws<KvException>(() => new CallerCredentials(token, null).Resolve(auth)).Message);
        Assert.Equal(AuthErrors.InvalidAuthTokenMessage, Assert.Throws<KvException>(() => new CallerCredentials("a.b.c", null).Resolve(auth, jwt)).Message);

        // A password change moves the auth revision: the token is stale, refused with etcd's error (clients log in again).
        Assert.True(machine.Apply(new RaftCommand { UserChangePassword = new AuthUserChangePasswordRequest { Name = "alice", HashedPassword = PasswordHash.Hash("new", 1) } }).Succeeded);
        var stale = Assert.Throws<KvException>(() => new CallerCredentials(token, null).Resolve(auth, jwt));
        Assert.Equal((StatusCode.InvalidArgument, AuthErrors.AuthOldRevisionMessage), (stale.StatusCode, stale.Message));
        Assert.Equal("alice", new CallerCredentials(jwt.Issue("alice", auth.Revision), null).Resolve(auth, jwt).User);
    }

    [Fact]
    public void A_certificate_login_needs_no_password_but_a_known_user_and_auth_on()
    {
        var machine = new KvStateMachine();
        Assert.True(machine.Apply(new RaftCommand { UserAdd = new AuthUserAddRequest { Name = "root", HashedPassword = PasswordHash.Hash("pw", 1) } }).Succeeded);
        Assert.True(machine.Apply(new RaftCommand { UserGrantRole = new AuthUserGrantRoleRequest { User = "root", Role = "root" } }).Succeeded);
        Assert.True(machine.Apply(new RaftCommand { UserAdd = new AuthUserAddRequest { Name = "carol", Options = new Bulwark.Api.Authpb.UserAddOptions { NoPassword = true } } }).Succeeded);
        var login = new AuthenticateCommand { Name = "carol", SimpleToken = "cert.1", CertificateLogin = true };
        Assert.Equal(AuthErrors.AuthNotEnabledMessage, machine.Apply(new RaftCommand { Authenticate = login }).Error?.Message);

        Assert.True(machine.Apply(new RaftCommand { AuthEnable = new AuthEnableRequest() }).Succeeded);
        Assert.True(machine.Apply(new RaftCommand { Authenticate = login }).Succeeded);
        Assert.Equal("carol", new CallerCredentials("cert.1", null).Resolve(machine.Store.Auth).User);
        // The same user without the certificate mark has no password to log in with.
        Assert.Equal(AuthErrors.AuthFailedMessage, machine.Apply(new RaftCommand { Authenticate = new AuthenticateCommand { Name = "carol", SimpleToken = "pw.2" } }).Error?.Message);
        Assert.Equal(AuthErrors.AuthFailedMessage, machine.Apply(new RaftCommand { Authenticate = new AuthenticateCommand { Name = "nobody", SimpleToken = "cert.3", CertificateLogin = true } }).Error?.Message);
    }
}
