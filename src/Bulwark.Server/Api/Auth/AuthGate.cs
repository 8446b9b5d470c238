using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv.Auth;
using Bulwark.Server.Hosting;
using Google.Protobuf;

namespace Bulwark.Server.Api.Auth;

/// <summary>
/// The checks the API layer makes itself: those of calls answered without the log (reads, watches, maintenance,
/// membership). Writes are checked again by the state machine at apply time (<see cref="CommandAuthorization"/>),
/// which is what decides; a check here only refuses early. Each check resolves the caller and decides under the store
/// lock, so it sees one consistent auth state.
/// </summary>
internal static class AuthGate
{
    /// <summary>etcd's IsRangePermitted for a Range or a watch's range.</summary>
    public static void CheckRead(NodeHost node, CallerCredentials caller, ByteString key, ByteString rangeEnd) =>
        node.Read(store =>
        {
            var who = caller.Resolve(store.Auth, node.Options.Jwt);
            store.Auth.CheckRead(who.User, who.AuthRevision, key.Span, rangeEnd.Span);
            return true;
        });

    /// <summary>etcd's checkTxnAuth for a Txn answered locally (one that only reads).</summary>
    public static void CheckTxn(NodeHost node, CallerCredentials caller, TxnRequest txn) =>
        node.Read(store =>
        {
            var who = caller.Resolve(store.Auth, node.Options.Jwt);
            if (store.Auth.Enabled)
            {
                CommandAuthorization.CheckTxn(store.Auth, store, who.User, who.AuthRevision, txn);
            }

            return true;
        });

    /// <summary>etcd's IsAdminPermitted: the root role (maintenance, membership, auth management).</summary>
    public static void CheckAdmin(NodeHost node, CallerCredentials caller) =>
        node.Read(store =>
        {
            store.Auth.CheckAdmin(caller.Resolve(store.Auth, node.Options.Jwt).User);
            return true;
        });

    /// <summary>The caller as of now (invalid tokens refused), for a command about to be proposed.</summary>
    public static CallerAuth Resolve(NodeHost node, CallerCredentials caller) => node.Read(store => caller.Resolve(store.Auth, node.Options.Jwt));
}
