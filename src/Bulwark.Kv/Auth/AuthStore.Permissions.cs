using Bulwark.Api.Authpb;

namespace Bulwark.Kv.Auth;

public sealed partial class AuthStore
{
    /// <summary>etcd's IsRangePermitted: read access to [key, rangeEnd). Nothing is checked while auth is off.</summary>
    /// <exception cref="Errors.KvException">user name is empty, revision of auth store is old, or permission denied.</exception>
    public void CheckRead(string user, ulong revision, ReadOnlySpan<byte> key, ReadOnlySpan<byte> rangeEnd) =>
        CheckKeys(user, revision, key, rangeEnd, Permission.Types.Type.Read);

    /// <summary>etcd's IsPutPermitted / IsDeleteRangePermitted: write access to [key, rangeEnd).</summary>
    public void CheckWrite(string user, ulong revision, ReadOnlySpan<byte> key, ReadOnlySpan<byte> rangeEnd) =>
        CheckKeys(user, revision, key, rangeEnd, Permission.Types.Type.Write);

    /// <summary>etcd's IsAdminPermitted: the user has the root role (auth management, maintenance, membership).</summary>
    public void CheckAdmin(string user)
    {
        if (!Enabled)
        {
            return;
        }

        if (user.Length == 0)
        {
            throw AuthErrors.UserEmpty();
        }

        if (!users.TryGetValue(user, out var found))
        {
            throw AuthErrors.UserNotFound();
        }

        if (!HasRootRole(found))
        {
            throw AuthErrors.PermissionDenied();
        }
    }

    /// <summary>The caller is a user this store knows (any roles).</summary>
    public void CheckAuthenticated(string user)
    {
        if (!Enabled)
        {
            return;
        }

        if (user.Length == 0)
        {
            throw AuthErrors.UserEmpty();
        }

        if (!users.ContainsKey(user))
        {
            throw AuthErrors.UserNotFound();
        }
    }

    /// <summary>Whether the user exists and has the root role (used where etcd lets admins skip a finer check).</summary>
    public bool IsAdmin(string user) => users.TryGetValue(user, out var found) && HasRootRole(found);

    private void CheckKeys(string user, ulong revision, ReadOnlySpan<byte> key, ReadOnlySpan<byte> rangeEnd, Permission.Types.Type wanted)
    {
        if (!Enabled)
        {
            return;
        }

        if (revision == 0 || user.Length == 0)
        {
            throw AuthErrors.UserEmpty();
        }

        if (revision < Revision)
        {
            throw AuthErrors.AuthOldRevision();
        }

        if (!users.TryGetValue(user, out var found))
        {
            throw AuthErrors.PermissionDenied();
        }

        if (HasRootRole(found))
        {
            return;
        }

        var granted = found.Roles.Where(roles.ContainsKey).SelectMany(r => roles[r].KeyPermission);
        if (!KeyPermissions.Covers(granted, wanted, key, rangeEnd))
        {
            throw AuthErrors.PermissionDenied();
        }
    }
}
