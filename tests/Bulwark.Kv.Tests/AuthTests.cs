using Bulwark.Api.Authpb;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv.Auth;
using Bulwark.Kv.Errors;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Kv.Tests;

/// <summary>
/// The replicated auth state in the state machine: etcd's root rules, the permission check of every client command at
/// apply time (a refused command changes nothing, a Txn is checked op by op), token invalidation, and auth state in
/// snapshots.
/// </summary>
public sealed class AuthTests
{
    private const string Hash = "pbkdf2-sha256$1$c2FsdA==$aGFzaA==";

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static RaftCommand AsUser(RaftCommand command, string user, ulong revision)
    {
        command.Header = new CommandHeader { Caller = new CallerAuth { User = user, AuthRevision = revision } };
        return command;
    }

    private static KvException Refused(ApplyResult result) => Assert.IsType<KvException>(result.Error);

    private static void Ok(ApplyResult result) => Assert.True(result.Succeeded, result.Error?.Message);

    /// <summary>root (root role), alice (role "app": READWRITE app/..., READ shared), auth on.</summary>
    private static KvStateMachine WithAuth()
    {
        var m = new KvStateMachine();
        Ok(m.Apply(new RaftCommand { UserAdd = new AuthUserAddRequest { Name = "root", HashedPassword = Hash } }));
        Ok(m.Apply(new RaftCommand { RoleAdd = new AuthRoleAddRequest { Name = "root" } }));
        Ok(m.Apply(new RaftCommand { UserGrantRole = new AuthUserGrantRoleRequest { User = "root", Role = "root" } }));
        Ok(m.Apply(new RaftCommand { UserAdd = new AuthUserAddRequest { Name = "alice", HashedPassword = Hash } }));
        Ok(m.Apply(new RaftCommand { RoleAdd = new AuthRoleAddRequest { Name = "app" } }));
        Ok(m.Apply(Grant("app", Permission.Types.Type.Readwrite, "app/", "app0")));
        Ok(m.Apply(Grant("app", Permission.Types.Type.Read, "shared", "")));
        Ok(m.Apply(new RaftCommand { UserGrantRole = new AuthUserGrantRoleRequest { User = "alice", Role = "app" } }));
        Ok(m.Apply(new RaftCommand { AuthEnable = new AuthEnableRequest() }));
        return m;
    }

    private static RaftCommand Grant(string role, Permission.Types.Type type, string key, string rangeEnd) => new()
    {
        RoleGrantPermission = new AuthRoleGrantPermissionRequest { Name = role, Perm = new Permission { PermType = type, Key = B(key), RangeEnd = B(rangeEnd) } },
    };

    private static RaftCommand Put(string key) => new() { Put = new PutRequest { Key = B(key), Value = B("v") } };

    [Fact]
    public void Enabling_needs_a_root_user_with_the_root_role()
    {
        var m = new KvStateMachine();
        var none = Refused(m.Apply(new RaftCommand { AuthEnable = new AuthEnableRequest() }));
        Assert.Equal((StatusCode.FailedPrecondition, AuthErrors.RootUserNotExistMessage), (none.StatusCode, none.Message));

        Ok(m.Apply(new RaftCommand { UserAdd = new AuthUserAddRequest { Name = "root", HashedPassword = Hash } }));
        var noRole = Refused(m.Apply(new RaftCommand { AuthEnable = new AuthEnableRequest() }));
        Assert.Equal(AuthErrors.RootRoleNotExistMessage, noRole.Message);
        Assert.False(m.Store.Auth.Enabled);
    }

    [Fact]
    public void Root_keeps_its_root_role_and_cannot_be_deleted_while_auth_is_on()
    {
        var m = WithAuth();
        var rev = m.Store.Auth.Revision;
        var revoke = Refused(m.Apply(AsUser(new RaftCommand { UserRevokeRole = new AuthUserRevokeRoleRequest { Name = "root", Role = "root" } }, "root", rev)));
        Assert.Equal((StatusCode.InvalidArgument, AuthErrors.InvalidAuthMgmtMessage), (revoke.StatusCode, revoke.Message));
        Assert.Equal(AuthErrors.InvalidAuthMgmtMessage, Refused(m.Apply(AsUser(new RaftCommand { UserDelete = new AuthUserDeleteRequest { Name = "root" } }, "root", rev))).Message);
        Assert.Equal(AuthErrors.InvalidAuthMgmtMessage, Refused(m.Apply(AsUser(new RaftCommand { RoleDelete = new AuthRoleDeleteRequest { Role = "root" } }, "root", rev))).Message);
        Assert.True(m.Store.Auth.HasRole("root", "root"));
        Assert.Equal(rev, m.Store.Auth.Revision);
    }

    [Fact]
    public void Auth_management_needs_the_root_role()
    {
        var m = WithAuth();
        var denied = Refused(m.Apply(AsUser(new RaftCommand { RoleAdd = new AuthRoleAddRequest { Name = "x" } }, "alice", m.Store.Auth.Revision)));
        Assert.Equal((StatusCode.PermissionDenied, AuthErrors.PermissionDeniedMessage), (denied.StatusCode, denied.Message));
        var empty = Refused(m.Apply(AsUser(new RaftCommand { AuthDisable = new AuthDisableRequest() }, "", 0)));
        Assert.Equal((StatusCode.InvalidArgument, AuthErrors.UserEmptyMessage), (empty.StatusCode, empty.Message));
        Assert.True(m.Store.Auth.Enabled);
        Assert.Equal(AuthErrors.RoleNotFoundMessage, Refused(m.Apply(AsUser(new RaftCommand { UserGrantRole = new AuthUserGrantRoleRequest { User = "alice", Role = "nope" } }, "root", m.Store.Auth.Revision))).Message);
        Assert.Equal(AuthErrors.UserNotFoundMessage, Refused(m.Apply(AsUser(new RaftCommand { UserGrantRole = new AuthUserGrantRoleRequest { User = "bob", Role = "app" } }, "root", m.Store.Auth.Revision))).Message);
        Assert.Equal(AuthErrors.UserAlreadyExistMessage, Refused(m.Apply(AsUser(new RaftCommand { UserAdd = new AuthUserAddRequest { Name = "alice", HashedPassword = Hash } }, "root", m.Store.Auth.Revision))).Message);
    }

    [Fact]
    public void Writes_are_checked_at_apply_and_a_refused_one_changes_nothing()
    {
        var m = WithAuth();
        var rev = m.Store.Auth.Revision;
        Ok(m.Apply(AsUser(Put("app/1"), "alice", rev)));
        var kvRevision = m.Store.Revision;

        var denied = Refused(m.Apply(AsUser(Put("other"), "alice", rev)));
        Assert.Equal((StatusCode.PermissionDenied, AuthErrors.PermissionDeniedMessage), (denied.StatusCode, denied.Message));
        Refused(m.Apply(AsUser(Put("shared"), "alice", rev))); // READ only
        Refused(m.Apply(AsUser(new RaftCommand { DeleteRange = new DeleteRangeRequest { Key = B("app/"), RangeEnd = B("b") } }, "alice", rev))); // sticks out of app/
        // Compaction asks only for a known user (etcd 3.4 checks nothing, seen side by side): an anonymous caller is refused.
        Refused(m.Apply(AsUser(new RaftCommand { Compaction = new CompactionRequest { Revision = 1 } }, "", 0)));
        Assert.Equal(AuthErrors.UserEmptyMessage, Refused(m.Apply(AsUser(Put("app/2"), "", 0))).Message);

        // A Txn that reads an allowed key and writes a forbidden one: refused as a whole.
        var txn = new RaftCommand
        {
            Txn = new TxnRequest
            {
                Compare = { new Compare { Key = B("shared"), Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Equal, Version = 0 } },
                Success = { new RequestOp { RequestRange = new RangeRequest { Key = B("app/1") } } },
                Failure = { new RequestOp { RequestTxn = new TxnRequest { Success = { new RequestOp { RequestPut = new PutRequest { Key = B("secret"), Value = B("x") } } } } } },
            },
        };
        Assert.Equal(AuthErrors.PermissionDeniedMessage, Refused(m.Apply(AsUser(txn, "alice", rev))).Message);
        Assert.Equal(kvRevision, m.Store.Revision);
        Assert.Null(m.Store.Get("other"));
        Assert.Null(m.Store.Get("secret"));

        // The member's own commands (no caller) are not checked; root may do anything.
        Ok(m.Apply(Put("internal")));
        Ok(m.Apply(AsUser(Put("secret"), "root", rev)));
    }

    [Fact]
    public void A_command_checked_before_an_auth_change_is_refused_as_stale()
    {
        var m = WithAuth();
        var before = m.Store.Auth.Revision;
        Ok(m.Apply(AsUser(new RaftCommand { RoleRevokePermission = new AuthRoleRevokePermissionRequest { Role = "app", Key = B("app/"), RangeEnd = B("app0") } }, "root", before)));
        var stale = Refused(m.Apply(AsUser(Put("app/1"), "alice", before)));
        Assert.Equal((StatusCode.InvalidArgument, AuthErrors.AuthOldRevisionMessage), (stale.StatusCode, stale.Message));
        Assert.Equal(AuthErrors.PermissionDeniedMessage, Refused(m.Apply(AsUser(Put("app/1"), "alice", m.Store.Auth.Revision))).Message);
    }

    [Fact]
    public void Lease_revoke_needs_write_access_to_every_key_on_the_lease()
    {
        var m = WithAuth();
        var rev = m.Store.Auth.Revision;
        Ok(m.Apply(AsUser(new RaftCommand { LeaseGrant = new LeaseGrantRequest { ID = 7, TTL = 60 } }, "alice", rev)));
        Ok(m.Apply(AsUser(new RaftCommand { Put = new PutRequest { Key = B("root/held"), Value = B("v"), Lease = 7 } }, "root", rev)));
        Refused(m.Apply(AsUser(new RaftCommand { LeaseRevoke = new LeaseRevokeRequest { ID = 7 } }, "alice", rev)));
        Refused(m.Apply(AsUser(new RaftCommand { Put = new PutRequest { Key = B("app/x"), Value = B("v"), Lease = 7 } }, "alice", rev)));
        Assert.NotNull(m.Store.Get("root/held"));
    }

    [Fact]
    public void Permissions_merge_touching_ranges_and_from_key_grants()
    {
        var m = WithAuth();
        var root = m.Store.Auth.Revision;
        Ok(m.Apply(AsUser(Grant("app", Permission.Types.Type.Write, "app0", "app5"), "root", root)));
        Ok(m.Apply(AsUser(Grant("app", Permission.Types.Type.Readwrite, "z", "\0"), "root", m.Store.Auth.Revision)));
        var rev = m.Store.Auth.Revision;
        var auth = m.Store.Auth;
        auth.CheckWrite("alice", rev, B("app/").Span, B("app5").Span); // app/..app0 (rw) + app0..app5 (w)
        Assert.Throws<KvException>(() => auth.CheckRead("alice", rev, B("app/").Span, B("app5").Span)); // the second is write-only
        auth.CheckRead("alice", rev, B("zzz").Span, B("\0").Span);
        Assert.Throws<KvException>(() => auth.CheckRead("alice", rev, B("y").Span, B("\0").Span));
        auth.CheckRead("alice", rev, B("shared").Span, default);
        Assert.Throws<KvException>(() => auth.CheckRead("alice", rev, B("shared").Span, B("sharee").Span));
    }

    [Fact]
    public void Tokens_die_with_a_password_change_a_role_change_a_delete_or_auth_off()
    {
        var m = WithAuth();
        Ok(m.Apply(new RaftCommand { Authenticate = new AuthenticateCommand { Name = "alice", SimpleToken = "t1", CheckedPasswordHash = Hash } }));
        Assert.Equal("alice", m.Store.Auth.Tokens.UserOf("t1"));
        Ok(m.Apply(AsUser(new RaftCommand { UserChangePassword = new AuthUserChangePasswordRequest { Name = "alice", HashedPassword = Hash + "x" } }, "root", m.Store.Auth.Revision)));
        Assert.Null(m.Store.Auth.Tokens.UserOf("t1"));

        // A login checked against the old password fails once the new one applied.
        Assert.Equal(AuthErrors.AuthFailedMessage, Refused(m.Apply(new RaftCommand { Authenticate = new AuthenticateCommand { Name = "alice", SimpleToken = "t2", CheckedPasswordHash = Hash } })).Message);

        Ok(m.Apply(new RaftCommand { Authenticate = new AuthenticateCommand { Name = "alice", SimpleToken = "t3", CheckedPasswordHash = Hash + "x" } }));
        Ok(m.Apply(AsUser(Grant("app", Permission.Types.Type.Read, "q", ""), "root", m.Store.Auth.Revision)));
        Assert.Null(m.Store.Auth.Tokens.UserOf("t3"));

        Ok(m.Apply(new RaftCommand { Authenticate = new AuthenticateCommand { Name = "alice", SimpleToken = "t4", CheckedPasswordHash = Hash + "x" } }));
        Ok(m.Apply(AsUser(new RaftCommand { UserDelete = new AuthUserDeleteRequest { Name = "alice" } }, "root", m.Store.Auth.Revision)));
        Assert.Null(m.Store.Auth.Tokens.UserOf("t4"));

        Ok(m.Apply(new RaftCommand { Authenticate = new AuthenticateCommand { Name = "root", SimpleToken = "t5", CheckedPasswordHash = Hash } }));
        Ok(m.Apply(AsUser(new RaftCommand { AuthDisable = new AuthDisableRequest() }, "root", m.Store.Auth.Revision)));
        Assert.Null(m.Store.Auth.Tokens.UserOf("t5"));
        Assert.Equal(AuthErrors.AuthNotEnabledMessage, Refused(m.Apply(new RaftCommand { Authenticate = new AuthenticateCommand { Name = "root", SimpleToken = "t6", CheckedPasswordHash = Hash } })).Message);
    }

    [Fact]
    public void A_password_must_arrive_hashed()
    {
        var m = new KvStateMachine();
        Refused(m.Apply(new RaftCommand { UserAdd = new AuthUserAddRequest { Name = "u", Password = "plain" } }));
        Ok(m.Apply(new RaftCommand { UserAdd = new AuthUserAddRequest { Name = "u", Options = new UserAddOptions { NoPassword = true } } }));
        Assert.Null(m.Store.Auth.PasswordHashOf("u"));
    }

    [Fact]
    public void Auth_state_survives_a_snapshot_and_tokens_survive_an_install()
    {
        var m = WithAuth();
        Ok(m.Apply(new RaftCommand { Authenticate = new AuthenticateCommand { Name = "alice", SimpleToken = "t", CheckedPasswordHash = Hash } }));
        using var bytes = new MemoryStream();
        m.WriteSnapshot(bytes);

        var restored = new KvStateMachine();
        bytes.Position = 0;
        restored.RestoreSnapshot(bytes);
        Assert.True(restored.Store.Auth.Enabled);
        Assert.Equal(m.Store.Auth.Revision, restored.Store.Auth.Revision);
        Assert.Equal(["alice", "root"], restored.Store.Auth.UserList().Users);
        Assert.Equal(m.Store.Auth.RoleGet("app").Perm, restored.Store.Auth.RoleGet("app").Perm);
        Assert.Equal(Hash, restored.Store.Auth.PasswordHashOf("alice"));
        Assert.Null(restored.Store.Auth.Tokens.UserOf("t")); // a fresh member never saw the login

        bytes.Position = 0;
        m.RestoreSnapshot(bytes);
        Assert.Equal("alice", m.Store.Auth.Tokens.UserOf("t")); // this member did: its token stays

        using var again = new MemoryStream();
        restored.WriteSnapshot(again);
        Assert.Equal(bytes.ToArray(), again.ToArray());
    }

    [Fact]
    public void A_format_2_snapshot_without_auth_is_still_read_with_auth_off()
    {
        var machine = new KvStateMachine();
        machine.Apply(Put("k"));
        using var current = new MemoryStream();
        machine.WriteSnapshot(current);
        var v3 = current.ToArray();
        Assert.Equal(new byte[] { 0, 1, 0, 0 }, v3[17..21]); // see AlarmTests: the auth section of a store that never used auth
        var body = v3[..^8].ToList();
        body.RemoveRange(17, 4);
        var v2 = body.ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(v2.AsSpan(8), 2);
        var trailer = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(trailer, System.IO.Hashing.XxHash64.HashToUInt64(v2));

        var old = MvccStore.ReadSnapshot(new MemoryStream([.. v2, .. trailer]));
        Assert.False(old.Auth.Enabled);
        Assert.Equal(1ul, old.Auth.Revision);
        Assert.Equal(machine.Store.HashKV(0), old.HashKV(0));
    }
}
