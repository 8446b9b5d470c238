using System.Buffers.Binary;
using System.IO.Hashing;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv.Errors;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Kv.Tests;

/// <summary>
/// Replicated alarms in the state machine: CORRUPT refuses every write at apply time (etcd's corrupt applier) and changes
/// nothing, disarming lifts it, alarms survive a snapshot (format 2) and do not change HashKV, and a format 1 snapshot
/// (written before alarms existed) is still read.
/// </summary>
public sealed class AlarmTests
{
    private const ulong Member = 0x8b37d07b558d826;

    private static RaftCommand Alarm(AlarmRequest.Types.AlarmAction action, ulong member = Member, AlarmType alarm = AlarmType.Corrupt) =>
        new() { Alarm = new AlarmRequest { Action = action, MemberID = member, Alarm = alarm } };

    private static RaftCommand Put(string key, string value) =>
        new() { Put = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } };

    [Fact]
    public void Corrupt_refuses_every_write_at_apply_and_disarm_lifts_it()
    {
        var machine = new KvStateMachine();
        Assert.True(machine.Apply(Put("k", "v")).Succeeded);
        Assert.True(machine.Apply(new RaftCommand { LeaseGrant = new LeaseGrantRequest { ID = 5, TTL = 60 } }).Succeeded);

        var raised = machine.Apply(Alarm(AlarmRequest.Types.AlarmAction.Activate));
        var response = Assert.IsType<AlarmResponse>(raised.Response);
        Assert.Equal([new AlarmMember { MemberID = Member, Alarm = AlarmType.Corrupt }], response.Alarms);
        Assert.True(machine.Store.HasAlarm(AlarmType.Corrupt));
        var revision = machine.Store.Revision;
        var hash = machine.Store.HashKV(0);

        RaftCommand[] writes =
        [
            Put("k", "changed"),
            new() { DeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("k") } },
            new() { Txn = new TxnRequest { Success = { new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8("t"), Value = ByteString.CopyFromUtf8("x") } } } } },
            new() { Compaction = new CompactionRequest { Revision = revision } },
            new() { LeaseGrant = new LeaseGrantRequest { ID = 6, TTL = 60 } },
            new() { LeaseRevoke = new LeaseRevokeRequest { ID = 5 } },
        ];
        foreach (var write in writes)
        {
            var result = machine.Apply(write);
            Assert.False(result.Succeeded, write.RequestCase.ToString());
            Assert.Equal(StatusCode.DataLoss, result.Error!.StatusCode);
            Assert.Equal("etcdserver: corrupt cluster", result.Error.Message);
            Assert.True(KvStateMachine.IsRefusedWhileCorrupt(write));
        }

        Assert.Equal(revision, machine.Store.Revision);
        Assert.Equal(hash, machine.Store.HashKV(0));
        Assert.Equal(1, machine.Store.LeaseCount);

        // Disarming answers with what it cleared; a second disarm clears nothing.
        var cleared = Assert.IsType<AlarmResponse>(machine.Apply(Alarm(AlarmRequest.Types.AlarmAction.Deactivate)).Response);
        Assert.Single(cleared.Alarms);
        Assert.Empty(Assert.IsType<AlarmResponse>(machine.Apply(Alarm(AlarmRequest.Types.AlarmAction.Deactivate)).Response).Alarms);
        Assert.False(machine.Store.HasAlarm(AlarmType.Corrupt));
        Assert.True(machine.Apply(Put("k", "changed")).Succeeded);
    }

    [Fact]
    public void An_alarm_elsewhere_is_only_lifted_when_every_corrupt_alarm_is_disarmed()
    {
        var machine = new KvStateMachine();
        machine.Apply(Alarm(AlarmRequest.Types.AlarmAction.Activate, member: 1));
        machine.Apply(Alarm(AlarmRequest.Types.AlarmAction.Activate, member: 2));
        machine.Apply(Alarm(AlarmRequest.Types.AlarmAction.Activate, member: 2)); // again: still one alarm for member 2
        Assert.Equal(2, machine.Store.Alarms.Count);
        machine.Apply(Alarm(AlarmRequest.Types.AlarmAction.Deactivate, member: 1));
        Assert.False(machine.Apply(Put("k", "v")).Succeeded);
        machine.Apply(Alarm(AlarmRequest.Types.AlarmAction.Deactivate, member: 2));
        Assert.True(machine.Apply(Put("k", "v")).Succeeded);
    }

    [Fact]
    public void An_alarm_request_naming_no_alarm_is_refused_and_changes_nothing()
    {
        var machine = new KvStateMachine();
        var result = machine.Apply(Alarm(AlarmRequest.Types.AlarmAction.Activate, alarm: AlarmType.None));
        Assert.Equal(StatusCode.InvalidArgument, result.Error!.StatusCode);
        Assert.Empty(machine.Store.Alarms);
        Assert.Throws<KvException>(() => Bulwark.Kv.Validation.RequestValidator.ValidateProposal(
            Alarm(AlarmRequest.Types.AlarmAction.Get), new KvLimits()));
    }

    [Fact]
    public void Alarms_survive_a_snapshot_and_do_not_change_the_hash()
    {
        var machine = new KvStateMachine();
        machine.Apply(Put("k", "v"));
        var hashBefore = machine.Store.HashKV(0);
        machine.Apply(Alarm(AlarmRequest.Types.AlarmAction.Activate));
        Assert.Equal(hashBefore, machine.Store.HashKV(0));

        using var snapshot = new MemoryStream();
        machine.WriteSnapshot(snapshot);
        snapshot.Position = 0;
        var restored = new KvStateMachine();
        restored.RestoreSnapshot(snapshot);
        Assert.Equal([new AlarmMember { MemberID = Member, Alarm = AlarmType.Corrupt }], restored.Store.Alarms);
        Assert.False(restored.Apply(Put("k", "w")).Succeeded);
        Assert.Equal(machine.Store.ContentHash(), restored.Store.ContentHash());
    }

    [Fact]
    public void A_format_1_snapshot_without_alarms_is_still_read()
    {
        var machine = new KvStateMachine();
        machine.Apply(Put("k", "v"));
        using var current = new MemoryStream();
        machine.WriteSnapshot(current);
        var v3 = current.ToArray();

        // Format 3 with no leases, no alarms and auth never used: magic, version, revision, compact revision, next lease
        // id, lease count (one byte each here), then the alarm count, a single 0 byte at offset 16, then the auth section
        // (off, revision 1, no users, no roles: 0 1 0 0). Format 1 is the same without the alarm count and auth section.
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(v3.AsSpan(8)));
        Assert.Equal(0, v3[15]);
        Assert.Equal(0, v3[16]);
        Assert.Equal(new byte[] { 0, 1, 0, 0 }, v3[17..21]);
        var body = v3[..^8].ToList();
        body.RemoveRange(16, 5);
        var v1 = body.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(v1.AsSpan(8), 1);
        var trailer = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(trailer, XxHash64.HashToUInt64(v1));

        var old = MvccStore.ReadSnapshot(new MemoryStream([.. v1, .. trailer]));
        Assert.Empty(old.Alarms);
        Assert.Equal(machine.Store.HashKV(0), old.HashKV(0));
    }

    [Fact]
    public void The_test_only_hook_changes_a_value_without_a_revision_and_so_the_hash()
    {
        var store = new MvccStore();
        var machine = new KvStateMachine(store);
        machine.Apply(Put("k", "v"));
        var before = store.HashKV(0);
        Assert.False(store.CorruptValueForTesting("missing"u8.ToArray(), [1]));
        Assert.True(store.CorruptValueForTesting("k"u8.ToArray(), "x"u8.ToArray()));
        var after = store.HashKV(0);
        Assert.Equal(before.Revision, after.Revision);
        Assert.NotEqual(before.Hash, after.Hash);
    }
}
