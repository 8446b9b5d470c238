using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv.Errors;
using Bulwark.Kv.Validation;
using Google.Protobuf;
using Grpc.Core;
using static Bulwark.Kv.Tests.Kv;

namespace Bulwark.Kv.Tests;

/// <summary>Every refusal carries etcd's status code and message, and leaves the store exactly as it was.</summary>
public sealed class ErrorTests
{
    private static MvccStore Sample()
    {
        var s = new MvccStore();
        s.LeaseGrant(new LeaseGrantRequest { ID = 1, TTL = 10 });
        s.Put("a", "1");
        s.Put("b", "2", lease: 1);
        s.Put("a", "3");
        s.Compact(new CompactionRequest { Revision = 3 });
        return s;
    }

    private static void AssertRefused(Action<MvccStore> action, StatusCode code, string message)
    {
        var s = Sample();
        long revision = s.Revision;
        ulong hash = s.ContentHash();
        var e = Assert.Throws<KvException>(() => action(s));
        Assert.Equal(code, e.StatusCode);
        Assert.Equal(message, e.Message);
        Assert.Equal(code, e.ToRpcException().StatusCode);
        Assert.Equal(revision, s.Revision);
        Assert.Equal(hash, s.ContentHash());
    }

    public static TheoryData<string, Action<MvccStore>, StatusCode, string> Cases => new()
    {
        { "range empty key", s => s.Range(new RangeRequest()), StatusCode.InvalidArgument, KvErrors.EmptyKeyMessage },
        { "put empty key", s => s.Put(new PutRequest { Value = B("v") }), StatusCode.InvalidArgument, KvErrors.EmptyKeyMessage },
        { "delete empty key", s => s.DeleteRange(new DeleteRangeRequest()), StatusCode.InvalidArgument, KvErrors.EmptyKeyMessage },
        { "txn compare empty key", s => s.Txn(new TxnRequest { Compare = { new Compare() } }), StatusCode.InvalidArgument, KvErrors.EmptyKeyMessage },
        { "txn op empty key", s => s.Txn(new TxnRequest { Success = { OpPut("x", "1"), OpPut("", "1") } }), StatusCode.InvalidArgument, KvErrors.EmptyKeyMessage },
        { "txn empty op", s => s.Txn(new TxnRequest { Success = { OpPut("x", "1"), new RequestOp() } }), StatusCode.InvalidArgument, KvErrors.KeyNotFoundMessage },
        { "ignore_value with value", s => s.Put(new PutRequest { Key = B("a"), Value = B("v"), IgnoreValue = true }), StatusCode.InvalidArgument, KvErrors.ValueProvidedMessage },
        { "ignore_lease with lease", s => s.Put(new PutRequest { Key = B("a"), Lease = 1, IgnoreLease = true }), StatusCode.InvalidArgument, KvErrors.LeaseProvidedMessage },
        { "ignore_value on missing key", s => s.Put(new PutRequest { Key = B("zz"), IgnoreValue = true }), StatusCode.InvalidArgument, KvErrors.KeyNotFoundMessage },
        { "ignore_lease on missing key", s => s.Put(new PutRequest { Key = B("zz"), Value = B("v"), IgnoreLease = true }), StatusCode.InvalidArgument, KvErrors.KeyNotFoundMessage },
        { "ignore_value on missing key in txn", s => s.Txn(new TxnRequest { Success = { OpPut("n", "1"), new RequestOp { RequestPut = new PutRequest { Key = B("gone"), IgnoreValue = true } } } }), StatusCode.InvalidArgument, KvErrors.KeyNotFoundMessage },
        { "put with unknown lease", s => s.Put(new PutRequest { Key = B("a"), Value = B("v"), Lease = 99 }), StatusCode.NotFound, KvErrors.LeaseNotFoundMessage },
        { "duplicate put in txn", s => s.Txn(new TxnRequest { Success = { OpPut("x", "1"), OpPut("x", "2") } }), StatusCode.InvalidArgument, KvErrors.DuplicateKeyMessage },
        { "put inside deleted range in txn", s => s.Txn(new TxnRequest { Success = { OpDelete("a", B("c")), OpPut("b", "2") } }), StatusCode.InvalidArgument, KvErrors.DuplicateKeyMessage },
        { "put inside open-ended deleted range in txn", s => s.Txn(new TxnRequest { Success = { OpDelete("a", AllFrom), OpPut("q", "2") } }), StatusCode.InvalidArgument, KvErrors.DuplicateKeyMessage },
        { "nested put duplicates outer put", s => s.Txn(new TxnRequest { Failure = { OpPut("x", "1"), OpTxn(new TxnRequest { Success = { OpPut("x", "2") } }) } }), StatusCode.InvalidArgument, KvErrors.DuplicateKeyMessage },
        { "nested put inside outer delete", s => s.Txn(new TxnRequest { Success = { OpDelete("x"), OpTxn(new TxnRequest { Failure = { OpPut("x", "2") } }) } }), StatusCode.InvalidArgument, KvErrors.DuplicateKeyMessage },
        { "range at compacted revision", s => s.Range(new RangeRequest { Key = B("a"), Revision = 2 }), StatusCode.OutOfRange, KvErrors.CompactedMessage },
        { "range at future revision", s => s.Range(new RangeRequest { Key = B("a"), Revision = 5 }), StatusCode.OutOfRange, KvErrors.FutureRevisionMessage },
        { "txn range at compacted revision", s => s.Txn(new TxnRequest { Success = { OpPut("x", "1"), OpRange("a", revision: 1) } }), StatusCode.OutOfRange, KvErrors.CompactedMessage },
        { "compact at compacted revision", s => s.Compact(new CompactionRequest { Revision = 3 }), StatusCode.OutOfRange, KvErrors.CompactedMessage },
        { "compact at future revision", s => s.Compact(new CompactionRequest { Revision = 5 }), StatusCode.OutOfRange, KvErrors.FutureRevisionMessage },
        { "revoke unknown lease", s => s.LeaseRevoke(new LeaseRevokeRequest { ID = 42 }), StatusCode.NotFound, KvErrors.LeaseNotFoundMessage },
        { "grant existing lease", s => s.LeaseGrant(new LeaseGrantRequest { ID = 1, TTL = 5 }), StatusCode.FailedPrecondition, KvErrors.LeaseExistsMessage },
        { "grant too large TTL", s => s.LeaseGrant(new LeaseGrantRequest { TTL = MvccStore.MaxLeaseTtlSeconds + 1 }), StatusCode.OutOfRange, KvErrors.LeaseTtlTooLargeMessage },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Refused_request_changes_nothing(string name, Action<MvccStore> action, StatusCode code, string message)
    {
        Assert.NotEmpty(name);
        AssertRefused(action, code, message);
    }

    [Fact]
    public void Too_many_operations_in_txn()
    {
        var txn = new TxnRequest();
        for (int i = 0; i < 129; i++)
        {
            txn.Success.Add(OpPut($"k{i}", "v"));
        }

        var e = Assert.Throws<KvException>(() => RequestValidator.ValidateTxn(txn, KvLimits.DefaultMaxTxnOps));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal(KvErrors.TooManyOpsMessage, e.Message);

        txn.Success.RemoveAt(0);
        RequestValidator.ValidateTxn(txn, KvLimits.DefaultMaxTxnOps);

        // Nested txns count against what the outer level leaves: 128 outer compares leave nothing.
        var nested = new TxnRequest { Success = { OpTxn(new TxnRequest { Success = { OpPut("n", "1") } }) } };
        for (int i = 0; i < 128; i++)
        {
            nested.Compare.Add(Cmp($"c{i}", Compare.Types.CompareTarget.Version, Compare.Types.CompareResult.Equal));
        }

        Assert.Equal(KvErrors.TooManyOpsMessage, Assert.Throws<KvException>(() => RequestValidator.ValidateTxn(nested, 128)).Message);
    }

    [Fact]
    public void Too_many_operations_is_refused_when_proposing()
    {
        var txn = new TxnRequest();
        for (int i = 0; i < 4; i++)
        {
            txn.Failure.Add(OpPut($"k{i}", "v"));
        }

        var command = new RaftCommand { Txn = txn };
        var e = Assert.Throws<KvException>(() => RequestValidator.ValidateProposal(command, new KvLimits { MaxTxnOps = 3 }));
        Assert.Equal(KvErrors.TooManyOpsMessage, e.Message);
        RequestValidator.ValidateProposal(command, KvLimits.Default);
    }

    [Fact]
    public void Request_too_large_with_default_and_configured_limits()
    {
        var big = new RaftCommand { Put = new PutRequest { Key = B("k"), Value = ByteString.CopyFrom(new byte[KvLimits.DefaultMaxRequestBytes]) } };
        var e = Assert.Throws<KvException>(() => RequestValidator.ValidateProposal(big, KvLimits.Default));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal(KvErrors.RequestTooLargeMessage, e.Message);

        var fits = new RaftCommand { Put = new PutRequest { Key = B("k"), Value = ByteString.CopyFrom(new byte[KvLimits.DefaultMaxRequestBytes - 100]) } };
        RequestValidator.ValidateProposal(fits, KvLimits.Default);
        Assert.Throws<KvException>(() => RequestValidator.ValidateProposal(fits, new KvLimits { MaxRequestBytes = 1024 }));
    }

    [Fact]
    public void Proposal_without_a_request_is_refused()
    {
        var e = Assert.Throws<KvException>(() => RequestValidator.ValidateProposal(new RaftCommand { RequestId = 1 }, KvLimits.Default));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
    }

    [Fact]
    public void Invalid_limits_are_named()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new KvLimits { MaxTxnOps = 0 }.EnsureValid());
        Assert.Equal("MaxTxnOps", e.ParamName);
    }
}
