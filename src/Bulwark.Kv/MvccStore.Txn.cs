using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Bulwark.Kv.Errors;
using Bulwark.Kv.Index;
using Bulwark.Kv.Validation;

namespace Bulwark.Kv;

public sealed partial class MvccStore
{
    /// <summary>
    /// Evaluates the compares against the state before the txn, then runs the success or failure
    /// operations in order, all at one new revision. Reads inside see earlier writes of the txn.
    /// If any operation fails nothing is applied and the revision does not move; a txn that
    /// changes nothing does not move it either.
    /// </summary>
    /// <exception cref="KvException">Invalid request, or the first failing operation's error.</exception>
    public TxnResponse Txn(TxnRequest request, List<Event>? events = null)
    {
        // The operation count limit is configuration, checked before proposing (RequestValidator.ValidateProposal).
        RequestValidator.ValidateTxn(request, int.MaxValue);
        BeginWrite(events);
        try
        {
            var response = TxnCore(request);
            CommitWrite();
            return response;
        }
        catch
        {
            RollbackWrite();
            throw;
        }
    }

    /// <summary>
    /// Runs a txn that only reads (<see cref="IsReadOnly"/>) without entering the write state: its compares and ranges
    /// see the current revision, it changes nothing, so it may run beside other readers and beside a snapshot being
    /// written (the apply worker writes snapshots without the store lock; a read that set the write flag would make
    /// that snapshot fail and stop the node).
    /// </summary>
    /// <exception cref="ArgumentException">The txn contains a put or a delete.</exception>
    /// <exception cref="KvException">Invalid request, or a failing range (compacted or future revision).</exception>
    public TxnResponse ReadOnlyTxn(TxnRequest request)
    {
        RequestValidator.ValidateTxn(request, int.MaxValue);
        if (!IsReadOnly(request))
        {
            throw new ArgumentException("The txn writes: it must be applied through the log with Txn.", nameof(request));
        }

        EnsureNotWriting();
        return TxnCore(request);
    }

    /// <summary>True when every operation of the txn, in both branches and in nested txns, is a range.</summary>
    public static bool IsReadOnly(TxnRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Success.Concat(request.Failure).All(op => op.RequestCase switch
        {
            RequestOp.RequestOneofCase.RequestRange => true,
            RequestOp.RequestOneofCase.RequestTxn => IsReadOnly(op.RequestTxn),
            _ => false,
        });
    }

    private TxnResponse TxnCore(TxnRequest request)
    {
        bool succeeded = true;
        foreach (var compare in request.Compare)
        {
            if (!Holds(compare))
            {
                succeeded = false;
                break;
            }
        }

        var ops = succeeded ? request.Success : request.Failure;
        var response = new TxnResponse { Succeeded = succeeded };
        foreach (var op in ops)
        {
            response.Responses.Add(ApplyOp(op));
        }

        response.Header = new ResponseHeader { Revision = VisibleRevision };
        return response;
    }

    private ResponseOp ApplyOp(RequestOp op) => op.RequestCase switch
    {
        RequestOp.RequestOneofCase.RequestRange => new ResponseOp { ResponseRange = RangeCore(op.RequestRange, VisibleRevision, currentRevision) },
        RequestOp.RequestOneofCase.RequestPut => new ResponseOp { ResponsePut = PutCore(op.RequestPut) },
        RequestOp.RequestOneofCase.RequestDeleteRange => new ResponseOp { ResponseDeleteRange = DeleteRangeCore(op.RequestDeleteRange) },
        RequestOp.RequestOneofCase.RequestTxn => new ResponseOp { ResponseTxn = TxnCore(op.RequestTxn) },
        _ => throw KvErrors.KeyNotFound(),
    };

    /// <summary>
    /// A compare holds when it holds for every key of its range as of the revision before the
    /// txn (etcd evaluates all compares, nested ones too, before applying anything). With no key
    /// in range it is checked against an all-zero key, except that a value compare then fails.
    /// </summary>
    private bool Holds(Compare compare)
    {
        bool any = false;
        var scan = new RangeScan(index, compare.Key, compare.RangeEnd);
        while (scan.TryNext(out var record))
        {
            if (!record.TryGetAt(currentRevision, out var entry))
            {
                continue;
            }

            any = true;
            if (!Holds(compare, entry))
            {
                return false;
            }
        }

        if (any)
        {
            return true;
        }

        return compare.Target != Compare.Types.CompareTarget.Value && Holds(compare, default);
    }

    private static bool Holds(Compare compare, in RevisionEntry entry)
    {
        // A target_union case that does not match the target compares against zero / empty, as in etcd.
        int result = compare.Target switch
        {
            Compare.Types.CompareTarget.Value => entry.Value.AsSpan().SequenceCompareTo(
                compare.TargetUnionCase == Compare.TargetUnionOneofCase.Value ? compare.Value.Span : default),
            Compare.Types.CompareTarget.Version => entry.Version.CompareTo(
                compare.TargetUnionCase == Compare.TargetUnionOneofCase.Version ? compare.Version : 0),
            Compare.Types.CompareTarget.Create => entry.CreateRevision.CompareTo(
                compare.TargetUnionCase == Compare.TargetUnionOneofCase.CreateRevision ? compare.CreateRevision : 0),
            Compare.Types.CompareTarget.Mod => entry.ModRevision.CompareTo(
                compare.TargetUnionCase == Compare.TargetUnionOneofCase.ModRevision ? compare.ModRevision : 0),
            Compare.Types.CompareTarget.Lease => entry.Lease.CompareTo(
                compare.TargetUnionCase == Compare.TargetUnionOneofCase.Lease ? compare.Lease : 0),
            _ => 0,
        };

        return compare.Result switch
        {
            Compare.Types.CompareResult.Equal => result == 0,
            Compare.Types.CompareResult.NotEqual => result != 0,
            Compare.Types.CompareResult.Greater => result > 0,
            Compare.Types.CompareResult.Less => result < 0,
            _ => true,
        };
    }
}
