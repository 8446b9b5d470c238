using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv.Auth;
using Bulwark.Kv.Errors;
using Google.Protobuf;

namespace Bulwark.Kv;

/// <summary>
/// The replicated state machine: decodes a committed Raft entry's <see cref="RaftCommand"/>,
/// applies it to the <see cref="MvccStore"/>, and returns what the waiting client call and the
/// watchers need. Deterministic, so every member (and the simulator) ends in the same state.
/// </summary>
public sealed class KvStateMachine
{
    public KvStateMachine()
        : this(new MvccStore())
    {
    }

    public KvStateMachine(MvccStore store)
    {
        Store = store ?? throw new ArgumentNullException(nameof(store));
    }

    public MvccStore Store { get; private set; }

    /// <summary>
    /// Whether <see cref="Apply(RaftCommand)"/> builds watch events. A host with no watchers may
    /// turn this off to save the allocations; the store's state is the same either way.
    /// </summary>
    public bool CollectEvents { get; set; } = true;

    /// <summary>Applies an entry's payload (a serialized <see cref="RaftCommand"/>).</summary>
    /// <exception cref="InvalidDataException">The bytes are not a command: the log is corrupt, and the member must stop.</exception>
    public ApplyResult Apply(ReadOnlySpan<byte> entryData)
    {
        RaftCommand command;
        try
        {
            command = RaftCommand.Parser.ParseFrom(entryData);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"A committed Raft entry of {entryData.Length} bytes is not a Bulwark key-value command: {e.Message}", e);
        }

        return Apply(command);
    }

    /// <summary>Applies a decoded command. A refused request becomes <see cref="ApplyResult.Error"/> and changes nothing.</summary>
    public ApplyResult Apply(RaftCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var events = CollectEvents ? new List<Event>() : null;
        IMessage? response = null;
        KvException? error = null;
        try
        {
            if (IsRefusedWhileCorrupt(command) && Store.HasAlarm(AlarmType.Corrupt))
            {
                // etcd's corrupt applier: decided at apply time from the replicated alarm, so a write proposed before
                // the alarm and committed after it is refused alike on every member.
                throw KvErrors.Corrupt();
            }

            // Decided at apply time from the replicated auth state (etcd's auth applier): a grant revoked while the
            // command waited in the log is honoured alike on every member, and a refused command changes nothing.
            CommandAuthorization.Check(command, Store);
            var auth = Store.Auth;
            response = command.RequestCase switch
            {
                RaftCommand.RequestOneofCase.Put => Store.Put(command.Put, events),
                RaftCommand.RequestOneofCase.DeleteRange => Store.DeleteRange(command.DeleteRange, events),
                RaftCommand.RequestOneofCase.Txn => Store.Txn(command.Txn, events),
                RaftCommand.RequestOneofCase.Compaction => Store.Compact(command.Compaction),
                RaftCommand.RequestOneofCase.LeaseGrant => Store.LeaseGrant(command.LeaseGrant),
                RaftCommand.RequestOneofCase.LeaseRevoke => Store.LeaseRevoke(command.LeaseRevoke, events),
                RaftCommand.RequestOneofCase.Alarm => Store.Alarm(command.Alarm),
                RaftCommand.RequestOneofCase.AuthEnable => auth.Enable(),
                RaftCommand.RequestOneofCase.AuthDisable => auth.Disable(),
                RaftCommand.RequestOneofCase.Authenticate => auth.Authenticate(command.Authenticate),
                RaftCommand.RequestOneofCase.UserAdd => auth.UserAdd(command.UserAdd),
                RaftCommand.RequestOneofCase.UserDelete => auth.UserDelete(command.UserDelete),
                RaftCommand.RequestOneofCase.UserChangePassword => auth.UserChangePassword(command.UserChangePassword),
                RaftCommand.RequestOneofCase.UserGrantRole => auth.UserGrantRole(command.UserGrantRole),
                RaftCommand.RequestOneofCase.UserRevokeRole => auth.UserRevokeRole(command.UserRevokeRole),
                RaftCommand.RequestOneofCase.RoleAdd => auth.RoleAdd(command.RoleAdd),
                RaftCommand.RequestOneofCase.RoleDelete => auth.RoleDelete(command.RoleDelete),
                RaftCommand.RequestOneofCase.RoleGrantPermission => auth.RoleGrantPermission(command.RoleGrantPermission),
                RaftCommand.RequestOneofCase.RoleRevokePermission => auth.RoleRevokePermission(command.RoleRevokePermission),
                _ => throw KvErrors.EmptyCommand(),
            };
        }
        catch (KvException e)
        {
            error = e;
        }

        return new ApplyResult(
            command.RequestId,
            command.Header?.OriginMemberId ?? 0,
            response,
            error,
            events is null || events.Count == 0 ? [] : events,
            Store.Revision);
    }

    /// <summary>
    /// The commands a CORRUPT alarm refuses (etcd's applierV3Corrupt): every change to keys, revisions and leases.
    /// Alarm commands pass, so the alarm can be disarmed.
    /// </summary>
    public static bool IsRefusedWhileCorrupt(RaftCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        return command.RequestCase is RaftCommand.RequestOneofCase.Put or RaftCommand.RequestOneofCase.DeleteRange
            or RaftCommand.RequestOneofCase.Txn or RaftCommand.RequestOneofCase.Compaction
            or RaftCommand.RequestOneofCase.LeaseGrant or RaftCommand.RequestOneofCase.LeaseRevoke;
    }

    /// <summary>Writes the state machine's snapshot (see <see cref="MvccStore.WriteSnapshot"/>).</summary>
    public void WriteSnapshot(Stream destination) => Store.WriteSnapshot(destination);

    /// <summary>Replaces the whole state with a snapshot; on any error the current state stays.</summary>
    public void RestoreSnapshot(Stream source)
    {
        var tokens = Store.Auth.Tokens;
        Store = MvccStore.ReadSnapshot(source);
        // Logins this member applied stay valid across an installed snapshot, as etcd's in-memory tokens do; those
        // of users the snapshot no longer has are dropped (and the auth revision check catches any other change).
        Store.Auth.AdoptTokens(tokens);
    }
}
