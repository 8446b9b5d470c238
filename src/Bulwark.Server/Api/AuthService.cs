using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv.Auth;
using Bulwark.Kv.Validation;
using Bulwark.Server.Api.Auth;
using Bulwark.Server.Hosting;
using Bulwark.Server.Observability;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Server.Api;

/// <summary>
/// etcdserverpb.Auth (etcd 3.4's; it has no AuthStatus). Every change goes through the log and is checked and applied
/// by the state machine (<see cref="AuthStore"/>); passwords are hashed here, on the member that received the call,
/// before proposing. Logins are checked here (the slow hash, off the apply path) and then proposed so every member
/// learns the token (with --auth-token jwt a login is answered with a signed token and nothing is proposed). Gets and lists are answered locally after a linearizable barrier.
/// </summary>
public sealed class AuthService(NodeHost node, LoginThrottle throttle) : Bulwark.Api.Etcdserverpb.Auth.AuthBase
{
    public override Task<AuthEnableResponse> AuthEnable(AuthEnableRequest request, ServerCallContext context) =>
        ProposeAsync<AuthEnableResponse>(new RaftCommand { AuthEnable = request }, context);

    public override Task<AuthDisableResponse> AuthDisable(AuthDisableRequest request, ServerCallContext context) =>
        ProposeAsync<AuthDisableResponse>(new RaftCommand { AuthDisable = request }, context);

    public override Task<AuthenticateResponse> Authenticate(AuthenticateRequest request, ServerCallContext context) => ApiContext.Guard(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        RequestValidator.ValidateSize(request, node.Options.Limits.MaxRequestBytes);
        await node.LinearizableBarrierAsync(context.CancellationToken).ConfigureAwait(false);
        // The hash and the auth revision are read together: a JWT stands for the revision its password was checked at,
        // so a password changed after this read makes the token stale at once.
        var (enabled, storedHash, authRevision) = node.Read(s => (s.Auth.Enabled, s.Auth.PasswordHashOf(request.Name), s.Auth.Revision));
        if (!enabled)
        {
            throw AuthErrors.AuthNotEnabled();
        }

        var jwt = node.Options.Jwt;
        if (jwt is { CanIssue: false })
        {
            throw AuthErrors.VerifyOnly(); // before the slow hash: this member could not answer a right password either
        }

        if (!await throttle.VerifyAsync(request.Password, storedHash, context.CancellationToken).ConfigureAwait(false))
        {
            (node.Options.Observer as NodeObservability)?.Metrics.FailedLogin();
            await LoginThrottle.DelayFailureAsync(context.CancellationToken).ConfigureAwait(false);
            throw AuthErrors.AuthFailed();
        }

        if (jwt is not null)
        {
            // Nothing to replicate: any member with the public key checks the token by itself.
            return new AuthenticateResponse { Header = ApiContext.Header(node, null), Token = jwt.Issue(request.Name, authRevision) };
        }

        // etcd's simple token: every member records it when the login applies.
        var login = new AuthenticateCommand { Name = request.Name, SimpleToken = Logins.NewSimpleToken(), CheckedPasswordHash = storedHash! };
        var (response, revision) = await ApiContext.ProposeAsync<AuthenticateResponse>(node, new RaftCommand { Authenticate = login }, caller: null,
            context.CancellationToken).ConfigureAwait(false);
        response.Header = ApiContext.Header(node, response.Header, revision);
        return response;
    });

    public override Task<AuthUserAddResponse> UserAdd(AuthUserAddRequest request, ServerCallContext context) => ApiContext.Guard(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        var caller = CallerCredentials.From(context);
        // Refused before the slow hash: only an admin may make this member spend it.
        AuthGate.CheckAdmin(node, caller);
        RequestValidator.ValidateSize(request, node.Options.Limits.MaxRequestBytes);
        if (request.HashedPassword.Length != 0)
        {
            throw AuthErrors.PasswordNotHashed();
        }

        var add = request.Clone();
        if (add.Options?.NoPassword != true)
        {
            add.HashedPassword = await throttle.HashAsync(request.Password, context.CancellationToken).ConfigureAwait(false);
        }

        add.Password = string.Empty;
        return await ProposeCoreAsync<AuthUserAddResponse>(new RaftCommand { UserAdd = add }, caller, context.CancellationToken).ConfigureAwait(false);
    });

    public override Task<AuthUserChangePasswordResponse> UserChangePassword(AuthUserChangePasswordRequest request, ServerCallContext context) => ApiContext.Guard(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        var caller = CallerCredentials.From(context);
        AuthGate.CheckAdmin(node, caller);
        RequestValidator.ValidateSize(request, node.Options.Limits.MaxRequestBytes);
        if (request.HashedPassword.Length != 0)
        {
            throw AuthErrors.PasswordNotHashed();
        }

        var change = new AuthUserChangePasswordRequest
        {
            Name = request.Name,
            HashedPassword = await throttle.HashAsync(request.Password, context.CancellationToken).ConfigureAwait(false),
        };
        return await ProposeCoreAsync<AuthUserChangePasswordResponse>(new RaftCommand { UserChangePassword = change }, caller, context.CancellationToken).ConfigureAwait(false);
    });

    public override Task<AuthUserDeleteResponse> UserDelete(AuthUserDeleteRequest request, ServerCallContext context) =>
        ProposeAsync<AuthUserDeleteResponse>(new RaftCommand { UserDelete = request }, context);

    public override Task<AuthUserGrantRoleResponse> UserGrantRole(AuthUserGrantRoleRequest request, ServerCallContext context) =>
        ProposeAsync<AuthUserGrantRoleResponse>(new RaftCommand { UserGrantRole = request }, context);

    public override Task<AuthUserRevokeRoleResponse> UserRevokeRole(AuthUserRevokeRoleRequest request, ServerCallContext context) =>
        ProposeAsync<AuthUserRevokeRoleResponse>(new RaftCommand { UserRevokeRole = request }, context);

    public override Task<AuthRoleAddResponse> RoleAdd(AuthRoleAddRequest request, ServerCallContext context) =>
        ProposeAsync<AuthRoleAddResponse>(new RaftCommand { RoleAdd = request }, context);

    public override Task<AuthRoleDeleteResponse> RoleDelete(AuthRoleDeleteRequest request, ServerCallContext context) =>
        ProposeAsync<AuthRoleDeleteResponse>(new RaftCommand { RoleDelete = request }, context);

    public override Task<AuthRoleGrantPermissionResponse> RoleGrantPermission(AuthRoleGrantPermissionRequest request, ServerCallContext context) =>
        ProposeAsync<AuthRoleGrantPermissionResponse>(new RaftCommand { RoleGrantPermission = request }, context);

    public override Task<AuthRoleRevokePermissionResponse> RoleRevokePermission(AuthRoleRevokePermissionRequest request, ServerCallContext context) =>
        ProposeAsync<AuthRoleRevokePermissionResponse>(new RaftCommand { RoleRevokePermission = request }, context);

    /// <summary>etcd: an admin sees any user; a user sees itself.</summary>
    public override Task<AuthUserGetResponse> UserGet(AuthUserGetRequest request, ServerCallContext context) =>
        ReadAsync(request, context, (auth, who) =>
        {
            if (!auth.IsAdmin(who.User) && who.User != request.Name)
            {
                auth.CheckAdmin(who.User);
            }

            return auth.UserGet(request.Name);
        });

    /// <summary>etcd: an admin sees any role; a user sees the roles it has.</summary>
    public override Task<AuthRoleGetResponse> RoleGet(AuthRoleGetRequest request, ServerCallContext context) =>
        ReadAsync(request, context, (auth, who) =>
        {
            if (!auth.IsAdmin(who.User) && !auth.HasRole(who.User, request.Role))
            {
                auth.CheckAdmin(who.User);
            }

            return auth.RoleGet(request.Role);
        });

    public override Task<AuthUserListResponse> UserList(AuthUserListRequest request, ServerCallContext context) =>
        ReadAsync(request, context, (auth, who) =>
        {
            auth.CheckAdmin(who.User);
            return auth.UserList();
        });

    public override Task<AuthRoleListResponse> RoleList(AuthRoleListRequest request, ServerCallContext context) =>
        ReadAsync(request, context, (auth, who) =>
        {
            auth.CheckAdmin(who.User);
            return auth.RoleList();
        });

    private Task<T> ProposeAsync<T>(RaftCommand command, ServerCallContext context)
        where T : class, IMessage =>
        ApiContext.Guard(() => ProposeCoreAsync<T>(command, CallerCredentials.From(context), context.CancellationToken));

    private async Task<T> ProposeCoreAsync<T>(RaftCommand command, CallerCredentials caller, CancellationToken cancellationToken)
        where T : class, IMessage
    {
        var (response, revision) = await ApiContext.ProposeAsync<T>(node, command, caller, cancellationToken).ConfigureAwait(false);
        SetHeader(response, revision);
        return response;
    }

    /// <summary>A get or list: answered from this member's auth state once a linearizable barrier shows it is current.</summary>
    private Task<T> ReadAsync<T>(IMessage request, ServerCallContext context, Func<AuthStore, CallerAuth, T> read)
        where T : class, IMessage => ApiContext.Guard(async () =>
    {
        RequestValidator.ValidateSize(request, node.Options.Limits.MaxRequestBytes);
        var caller = CallerCredentials.From(context);
        await node.LinearizableBarrierAsync(context.CancellationToken).ConfigureAwait(false);
        var response = node.Read(store => read(store.Auth, caller.Resolve(store.Auth, node.Options.Jwt)));
        SetHeader(response, 0);
        return response;
    });

    /// <summary>Every Auth response has its ResponseHeader as field 1.</summary>
    private void SetHeader(IMessage response, long revision)
    {
        var field = response.Descriptor.FindFieldByNumber(1);
        var header = field.Accessor.GetValue(response) as ResponseHeader;
        field.Accessor.SetValue(response, ApiContext.Header(node, header, revision));
    }
}
