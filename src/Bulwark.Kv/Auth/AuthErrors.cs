using Bulwark.Kv.Errors;
using Grpc.Core;

namespace Bulwark.Kv.Auth;

/// <summary>
/// The auth errors of etcd 3.4 (rpctypes.ErrGRPC*), with its gRPC status codes and exact messages: clients match on
/// the text (clientv3 re-authenticates on "invalid auth token" and "revision of auth store is old").
/// </summary>
public static class AuthErrors
{
    public const string RootUserNotExistMessage = "etcdserver: root user does not exist";
    public const string RootRoleNotExistMessage = "etcdserver: root user does not have root role";
    public const string UserAlreadyExistMessage = "etcdserver: user name already exists";
    public const string UserEmptyMessage = "etcdserver: user name is empty";
    public const string UserNotFoundMessage = "etcdserver: user name not found";
    public const string RoleAlreadyExistMessage = "etcdserver: role name already exists";
    public const string RoleNotFoundMessage = "etcdserver: role name not found";
    public const string RoleEmptyMessage = "etcdserver: role name is empty";
    public const string AuthFailedMessage = "etcdserver: authentication failed, invalid user ID or password";
    public const string PermissionDeniedMessage = "etcdserver: permission denied";
    public const string RoleNotGrantedMessage = "etcdserver: role is not granted to the user";
    public const string PermissionNotGrantedMessage = "etcdserver: permission is not granted to the role";
    public const string AuthNotEnabledMessage = "etcdserver: authentication is not enabled";
    public const string InvalidAuthTokenMessage = "etcdserver: invalid auth token";
    public const string InvalidAuthMgmtMessage = "etcdserver: invalid auth management";
    public const string AuthOldRevisionMessage = "etcdserver: revision of auth store is old";

    /// <summary>etcd's ErrVerifyOnly, with what to do about it.</summary>
    public const string VerifyOnlyMessage = "auth: token signing attempted with verify-only key: this member has only the JWT public key " +
        "(--auth-token jwt without priv-key) and can check tokens but not issue them; authenticate at a member that has the private key";

    public static KvException RootUserNotExist() => new(StatusCode.FailedPrecondition, RootUserNotExistMessage);

    public static KvException RootRoleNotExist() => new(StatusCode.FailedPrecondition, RootRoleNotExistMessage);

    public static KvException UserAlreadyExist() => new(StatusCode.FailedPrecondition, UserAlreadyExistMessage);

    public static KvException UserEmpty() => new(StatusCode.InvalidArgument, UserEmptyMessage);

    public static KvException UserNotFound() => new(StatusCode.FailedPrecondition, UserNotFoundMessage);

    public static KvException RoleAlreadyExist() => new(StatusCode.FailedPrecondition, RoleAlreadyExistMessage);

    public static KvException RoleNotFound() => new(StatusCode.FailedPrecondition, RoleNotFoundMessage);

    public static KvException RoleEmpty() => new(StatusCode.InvalidArgument, RoleEmptyMessage);

    public static KvException AuthFailed() => new(StatusCode.InvalidArgument, AuthFailedMessage);

    public static KvException PermissionDenied() => new(StatusCode.PermissionDenied, PermissionDeniedMessage);

    public static KvException RoleNotGranted() => new(StatusCode.FailedPrecondition, RoleNotGrantedMessage);

    public static KvException PermissionNotGranted() => new(StatusCode.FailedPrecondition, PermissionNotGrantedMessage);

    public static KvException AuthNotEnabled() => new(StatusCode.FailedPrecondition, AuthNotEnabledMessage);

    public static KvException InvalidAuthToken() => new(StatusCode.Unauthenticated, InvalidAuthTokenMessage);

    public static KvException InvalidAuthMgmt() => new(StatusCode.InvalidArgument, InvalidAuthMgmtMessage);

    public static KvException AuthOldRevision() => new(StatusCode.InvalidArgument, AuthOldRevisionMessage);

    /// <summary>A login at a member that holds only the JWT public key.</summary>
    public static KvException VerifyOnly() => new(StatusCode.FailedPrecondition, VerifyOnlyMessage);

    /// <summary>A user-add or password change whose password was not hashed by the receiving member (or was sent hashed by a client).</summary>
    public static KvException PasswordNotHashed() =>
        new(StatusCode.InvalidArgument, "bulwark: a user's password must reach the log hashed by the member that received it");
}
