using Bulwark.Api.Authpb;
using Bulwark.Kv.Snapshots;
using Google.Protobuf;

namespace Bulwark.Kv.Auth;

public sealed partial class AuthStore
{
    private const int MaxRecordBytes = 64 * 1024 * 1024;

    /// <summary>
    /// The auth section of a store snapshot: enabled flag, revision, then users and roles in name order, each as its
    /// authpb message. Same state, same bytes (no maps in these messages, so their encoding is deterministic).
    /// </summary>
    internal void Write(KvSnapshotEncoder writer)
    {
        writer.WriteVarUInt(Enabled ? 1UL : 0UL);
        writer.WriteVarUInt(Revision);
        writer.WriteVarUInt((ulong)users.Count);
        foreach (var user in users.Values)
        {
            writer.WriteBytes(user.ToByteArray());
        }

        writer.WriteVarUInt((ulong)roles.Count);
        foreach (var role in roles.Values)
        {
            writer.WriteBytes(role.ToByteArray());
        }
    }

    internal static AuthStore Read(KvSnapshotDecoder reader)
    {
        var store = new AuthStore();
        ulong enabled = reader.ReadVarUInt();
        store.Revision = reader.ReadVarUInt();
        if (enabled > 1 || store.Revision == 0)
        {
            throw KvSnapshotDecoder.Corrupt("the auth section's switch or revision is invalid");
        }

        store.Enabled = enabled == 1;
        ulong userCount = reader.ReadVarUInt();
        for (ulong i = 0; i < userCount; i++)
        {
            var user = Parse(User.Parser, reader.ReadBytes(MaxRecordBytes));
            if (!store.users.TryAdd(user.Name.ToStringUtf8(), user))
            {
                throw KvSnapshotDecoder.Corrupt("the auth section names a user twice");
            }
        }

        ulong roleCount = reader.ReadVarUInt();
        for (ulong i = 0; i < roleCount; i++)
        {
            var role = Parse(Role.Parser, reader.ReadBytes(MaxRecordBytes));
            if (!store.roles.TryAdd(role.Name.ToStringUtf8(), role))
            {
                throw KvSnapshotDecoder.Corrupt("the auth section names a role twice");
            }
        }

        if (store.Enabled && !(store.users.TryGetValue(RootUser, out var root) && HasRootRole(root)))
        {
            throw KvSnapshotDecoder.Corrupt("auth is on but the root user with the root role is missing");
        }

        return store;
    }

    private static T Parse<T>(MessageParser<T> parser, byte[] bytes)
        where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw KvSnapshotDecoder.Corrupt($"an auth record does not decode ({e.Message})");
        }
    }
}
