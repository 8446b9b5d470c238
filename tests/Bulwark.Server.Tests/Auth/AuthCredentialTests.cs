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
}
