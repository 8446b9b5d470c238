using Bulwark.Api.Authpb;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Google.Protobuf;

namespace Bulwark.Kv.Auth;

/// <summary>
/// The replicated auth state (etcd's auth store): whether auth is on, the auth revision every change bumps, users
/// (with their password hashes and roles) and roles (with their key permissions), and etcd's rules for the root user
/// and role. Changed only by applying committed commands, so every member holds the same; deterministic, no clock.
/// The <see cref="Tokens"/> table beside it is member-local and volatile.
/// </summary>
public sealed partial class AuthStore
{
    public const string RootUser = "root";
    public const string RootRole = "root";

    private readonly SortedDictionary<string, User> users = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, Role> roles = new(StringComparer.Ordinal);

    public bool Enabled { get; private set; }

    /// <summary>etcd's auth revision: 1 in a fresh store, bumped by every change of users, roles or the switch.</summary>
    public ulong Revision { get; private set; } = 1;

    /// <summary>Logins applied on this member (see <see cref="SimpleTokens"/>).</summary>
    public SimpleTokens Tokens { get; internal set; } = new();

    public int UserCount => users.Count;

    /// <summary>Keeps a previous store's token table, without the tokens of users this store does not have.</summary>
    internal void AdoptTokens(SimpleTokens tokens)
    {
        if (!Enabled)
        {
            tokens.Clear();
        }

        tokens.RetainUsers(users.ContainsKey);
        Tokens = tokens;
    }

    public AuthEnableResponse Enable()
    {
        if (Enabled)
        {
            return new AuthEnableResponse();
        }

        if (!users.TryGetValue(RootUser, out var root))
        {
            throw AuthErrors.RootUserNotExist();
        }

        if (!HasRootRole(root))
        {
            throw AuthErrors.RootRoleNotExist();
        }

        Enabled = true;
        Revision++;
        return new AuthEnableResponse();
    }

    public AuthDisableResponse Disable()
    {
        if (Enabled)
        {
            Enabled = false;
            Revision++;
            Tokens.Clear();
        }

        return new AuthDisableResponse();
    }

    /// <summary>Records a login checked by the member that proposed it; fails if the user or password changed meanwhile.</summary>
    public AuthenticateResponse Authenticate(AuthenticateCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (!Enabled)
        {
            throw AuthErrors.AuthNotEnabled();
        }

        if (!users.TryGetValue(command.Name, out var user) || command.SimpleToken.Length == 0)
        {
            throw AuthErrors.AuthFailed();
        }

        // A certificate login was checked by the TLS handshake on the member that proposed it; a password login
        // against the hash it was checked with (a password changed meanwhile fails it).
        if (!command.CertificateLogin && (user.Options?.NoPassword == true || user.Password.ToStringUtf8() != command.CheckedPasswordHash))
        {
            throw AuthErrors.AuthFailed();
        }

        Tokens.Assign(command.SimpleToken, command.Name);
        return new AuthenticateResponse { Token = command.SimpleToken };
    }

    /// <summary>The stored password hash of a user who may log in with a password, or null.</summary>
    public string? PasswordHashOf(string name) =>
        users.TryGetValue(name, out var user) && user.Options?.NoPassword != true ? user.Password.ToStringUtf8() : null;

    public AuthUserAddResponse UserAdd(AuthUserAddRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Name.Length == 0)
        {
            throw AuthErrors.UserEmpty();
        }

        bool noPassword = request.Options?.NoPassword == true;
        if (!noPassword && (request.HashedPassword.Length == 0 || request.Password.Length != 0))
        {
            throw AuthErrors.PasswordNotHashed();
        }

        if (users.ContainsKey(request.Name))
        {
            throw AuthErrors.UserAlreadyExist();
        }

        users.Add(request.Name, new User
        {
            Name = ByteString.CopyFromUtf8(request.Name),
            Password = noPassword ? ByteString.Empty : ByteString.CopyFromUtf8(request.HashedPassword),
            Options = new UserAddOptions { NoPassword = noPassword },
        });
        Revision++;
        return new AuthUserAddResponse();
    }

    public AuthUserDeleteResponse UserDelete(AuthUserDeleteRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Enabled && request.Name == RootUser)
        {
            throw AuthErrors.InvalidAuthMgmt();
        }

        if (!users.Remove(request.Name))
        {
            throw AuthErrors.UserNotFound();
        }

        Revision++;
        Tokens.InvalidateUser(request.Name);
        return new AuthUserDeleteResponse();
    }

    public AuthUserChangePasswordResponse UserChangePassword(AuthUserChangePasswordRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.HashedPassword.Length == 0 || request.Password.Length != 0)
        {
            throw AuthErrors.PasswordNotHashed();
        }

        if (!users.TryGetValue(request.Name, out var user))
        {
            throw AuthErrors.UserNotFound();
        }

        user.Password = ByteString.CopyFromUtf8(request.HashedPassword);
        user.Options = new UserAddOptions { NoPassword = false };
        Revision++;
        Tokens.InvalidateUser(request.Name);
        return new AuthUserChangePasswordResponse();
    }

    public AuthUserGrantRoleResponse UserGrantRole(AuthUserGrantRoleRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!users.TryGetValue(request.User, out var user))
        {
            throw AuthErrors.UserNotFound();
        }

        if (request.Role != RootRole && !roles.ContainsKey(request.Role))
        {
            throw AuthErrors.RoleNotFound();
        }

        if (user.Roles.Contains(request.Role))
        {
            // etcd ignores a repeated grant (no error, no new revision).
            return new AuthUserGrantRoleResponse();
        }

        var sorted = user.Roles.Append(request.Role).Order(StringComparer.Ordinal).ToList();
        user.Roles.Clear();
        user.Roles.AddRange(sorted);
        Revision++;
        Tokens.InvalidateUser(request.User);
        return new AuthUserGrantRoleResponse();
    }

    public AuthUserRevokeRoleResponse UserRevokeRole(AuthUserRevokeRoleRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Enabled && request.Name == RootUser && request.Role == RootRole)
        {
            throw AuthErrors.InvalidAuthMgmt();
        }

        if (!users.TryGetValue(request.Name, out var user))
        {
            throw AuthErrors.UserNotFound();
        }

        if (!user.Roles.Remove(request.Role))
        {
            throw AuthErrors.RoleNotGranted();
        }

        Revision++;
        Tokens.InvalidateUser(request.Name);
        return new AuthUserRevokeRoleResponse();
    }

    public AuthUserGetResponse UserGet(string name)
    {
        if (!users.TryGetValue(name, out var user))
        {
            throw AuthErrors.UserNotFound();
        }

        var response = new AuthUserGetResponse();
        response.Roles.AddRange(user.Roles);
        return response;
    }

    public AuthUserListResponse UserList()
    {
        var response = new AuthUserListResponse();
        response.Users.AddRange(users.Keys);
        return response;
    }

    public AuthRoleAddResponse RoleAdd(AuthRoleAddRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Name.Length == 0)
        {
            throw AuthErrors.RoleEmpty();
        }

        if (roles.ContainsKey(request.Name))
        {
            throw AuthErrors.RoleAlreadyExist();
        }

        roles.Add(request.Name, new Role { Name = ByteString.CopyFromUtf8(request.Name) });
        Revision++;
        return new AuthRoleAddResponse();
    }

    public AuthRoleDeleteResponse RoleDelete(AuthRoleDeleteRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Enabled && request.Role == RootRole)
        {
            throw AuthErrors.InvalidAuthMgmt();
        }

        if (!roles.Remove(request.Role))
        {
            throw AuthErrors.RoleNotFound();
        }

        foreach (var (name, user) in users)
        {
            if (user.Roles.Remove(request.Role))
            {
                Tokens.InvalidateUser(name);
            }
        }

        Revision++;
        return new AuthRoleDeleteResponse();
    }

    public AuthRoleGrantPermissionResponse RoleGrantPermission(AuthRoleGrantPermissionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!roles.TryGetValue(request.Name, out var role))
        {
            throw AuthErrors.RoleNotFound();
        }

        var permission = request.Perm ?? throw new Errors.KvException(Grpc.Core.StatusCode.InvalidArgument, "bulwark: the permission to grant is not given");
        var existing = role.KeyPermission.FirstOrDefault(p => p.Key == permission.Key && p.RangeEnd == permission.RangeEnd);
        if (existing is not null)
        {
            existing.PermType = permission.PermType;
        }
        else
        {
            var sorted = role.KeyPermission.Append(permission.Clone())
                .OrderBy(p => p.Key.ToByteArray(), BytesOrder.Instance)
                .ThenBy(p => p.RangeEnd.ToByteArray(), BytesOrder.Instance)
                .ToList();
            role.KeyPermission.Clear();
            role.KeyPermission.AddRange(sorted);
        }

        Revision++;
        InvalidateHoldersOf(request.Name);
        return new AuthRoleGrantPermissionResponse();
    }

    public AuthRoleRevokePermissionResponse RoleRevokePermission(AuthRoleRevokePermissionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!roles.TryGetValue(request.Role, out var role))
        {
            throw AuthErrors.RoleNotFound();
        }

        var existing = role.KeyPermission.FirstOrDefault(p => p.Key == request.Key && p.RangeEnd == request.RangeEnd)
            ?? throw AuthErrors.PermissionNotGranted();
        role.KeyPermission.Remove(existing);
        Revision++;
        InvalidateHoldersOf(request.Role);
        return new AuthRoleRevokePermissionResponse();
    }

    public AuthRoleGetResponse RoleGet(string name)
    {
        if (!roles.TryGetValue(name, out var role))
        {
            throw AuthErrors.RoleNotFound();
        }

        var response = new AuthRoleGetResponse();
        response.Perm.AddRange(role.KeyPermission.Select(p => p.Clone()));
        return response;
    }

    public AuthRoleListResponse RoleList()
    {
        var response = new AuthRoleListResponse();
        response.Roles.AddRange(roles.Keys);
        return response;
    }

    public bool HasRole(string user, string role) => users.TryGetValue(user, out var u) && u.Roles.Contains(role);

    private static bool HasRootRole(User user) => user.Roles.Contains(RootRole);

    private void InvalidateHoldersOf(string role)
    {
        foreach (var (name, user) in users)
        {
            if (user.Roles.Contains(role))
            {
                Tokens.InvalidateUser(name);
            }
        }
    }

    private sealed class BytesOrder : IComparer<byte[]>
    {
        public static readonly BytesOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
