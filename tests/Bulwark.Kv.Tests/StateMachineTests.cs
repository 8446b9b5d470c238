using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv.Errors;
using Google.Protobuf;
using Grpc.Core;
using static Bulwark.Kv.Tests.Kv;

namespace Bulwark.Kv.Tests;

public sealed class StateMachineTests
{
    private static byte[] Encode(RaftCommand command) => command.ToByteArray();

    [Fact]
    public void Apply_decodes_runs_and_returns_response_events_and_revision()
    {
        var sm = new KvStateMachine();
        var put = sm.Apply(Encode(new RaftCommand
        {
            RequestId = 17,
            Header = new CommandHeader { OriginMemberId = 3 },
            Put = new PutRequest { Key = B("k"), Value = B("v") },
        }));
        Assert.True(put.Succeeded);
        Assert.Equal(17UL, put.RequestId);
        Assert.Equal(3UL, put.OriginMemberId);
        Assert.Equal(2, put.Revision);
        Assert.Equal(2, Assert.IsType<PutResponse>(put.Response).Header.Revision);
        var ev = Assert.Single(put.Events);
        Assert.Equal(Event.Types.EventType.Put, ev.Type);

        var txn = sm.Apply(Encode(new RaftCommand { RequestId = 18, Txn = new TxnRequest { Success = { OpDelete("k"), OpPut("j", "1") } } }));
        Assert.Equal(3, txn.Revision);
        Assert.Equal(2, txn.Events.Count);
        Assert.Equal("v", S(txn.Events[0].PrevKv.Value));

        var grant = sm.Apply(Encode(new RaftCommand { LeaseGrant = new LeaseGrantRequest { ID = 4, TTL = 9 } }));
        Assert.Equal(4, Assert.IsType<LeaseGrantResponse>(grant.Response).ID);
        sm.Apply(Encode(new RaftCommand { Put = new PutRequest { Key = B("l"), Lease = 4 } }));
        var revoke = sm.Apply(Encode(new RaftCommand { LeaseRevoke = new LeaseRevokeRequest { ID = 4 } }));
        Assert.Single(revoke.Events);
        Assert.Equal(5, revoke.Revision);

        var compact = sm.Apply(Encode(new RaftCommand { Compaction = new CompactionRequest { Revision = 5 } }));
        Assert.True(compact.Succeeded);
        Assert.Equal(5, sm.Store.CompactRevision);
    }

    [Fact]
    public void Refused_command_returns_error_and_changes_nothing()
    {
        var sm = new KvStateMachine();
        sm.Apply(Encode(new RaftCommand { Put = new PutRequest { Key = B("k"), Value = B("v") } }));
        var hash = sm.Store.ContentHash();
        var result = sm.Apply(Encode(new RaftCommand { RequestId = 9, Put = new PutRequest { Key = B("x"), Lease = 77 } }));
        Assert.False(result.Succeeded);
        Assert.Null(result.Response);
        Assert.Equal(9UL, result.RequestId);
        Assert.Equal(StatusCode.NotFound, result.Error!.StatusCode);
        Assert.Empty(result.Events);
        Assert.Equal(2, result.Revision);
        Assert.Equal(hash, sm.Store.ContentHash());

        var empty = sm.Apply(Encode(new RaftCommand { RequestId = 10 }));
        Assert.Equal(KvErrors.EmptyCommandMessage, empty.Error!.Message);

        // Apply repeats the limit-independent checks: an empty key never reaches the store.
        var emptyKey = sm.Apply(Encode(new RaftCommand { Put = new PutRequest { Value = B("v") } }));
        Assert.Equal(KvErrors.EmptyKeyMessage, emptyKey.Error!.Message);
        Assert.Equal(hash, sm.Store.ContentHash());
    }

    [Fact]
    public void Undecodable_entry_is_a_corrupt_log()
    {
        var sm = new KvStateMachine();
        var e = Assert.Throws<InvalidDataException>(() => sm.Apply(new byte[] { 0x0A, 0xFF, 0xFF }));
        Assert.Contains("not a Bulwark key-value command", e.Message, StringComparison.Ordinal);
    }
}
