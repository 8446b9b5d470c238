using Bulwark.Api.Etcdserverpb;
using Bulwark.Kv.Errors;
using Bulwark.Kv.Index;
using Google.Protobuf;
using Google.Protobuf.Collections;

namespace Bulwark.Kv.Validation;

/// <summary>
/// etcd's rule that a txn may not write one key twice: within one operation list, a put may
/// not hit a key another put or a delete range of the same path writes. Puts in the then and
/// else branches of one nested txn may share keys (only one branch runs). Deletes may overlap
/// each other. Unlike etcd, a delete with range_end "\0" is treated as the open interval it
/// names (etcd's interval tree sees it as empty and lets such overlaps through).
/// </summary>
internal static class TxnOverlapCheck
{
    public static void Check(RepeatedField<RequestOp> ops) => Collect(ops);

    private static (HashSet<ByteString> Puts, List<DeleteRangeRequest> Deletes) Collect(RepeatedField<RequestOp> ops)
    {
        var deletes = new List<DeleteRangeRequest>();
        foreach (var op in ops)
        {
            if (op.RequestCase == RequestOp.RequestOneofCase.RequestDeleteRange)
            {
                deletes.Add(op.RequestDeleteRange);
            }
        }

        var puts = new HashSet<ByteString>();
        foreach (var op in ops)
        {
            if (op.RequestCase != RequestOp.RequestOneofCase.RequestTxn)
            {
                continue;
            }

            var (putsThen, deletesThen) = Collect(op.RequestTxn.Success);
            var (putsElse, deletesElse) = Collect(op.RequestTxn.Failure);
            foreach (var key in putsThen)
            {
                if (puts.Contains(key) || Intersects(deletes, key))
                {
                    throw KvErrors.DuplicateKey();
                }

                puts.Add(key);
            }

            foreach (var key in putsElse)
            {
                if ((puts.Contains(key) && !putsThen.Contains(key)) || Intersects(deletes, key))
                {
                    throw KvErrors.DuplicateKey();
                }

                puts.Add(key);
            }

            deletes.AddRange(deletesThen);
            deletes.AddRange(deletesElse);
        }

        foreach (var op in ops)
        {
            if (op.RequestCase != RequestOp.RequestOneofCase.RequestPut)
            {
                continue;
            }

            var key = op.RequestPut.Key;
            if (puts.Contains(key) || Intersects(deletes, key))
            {
                throw KvErrors.DuplicateKey();
            }

            puts.Add(key);
        }

        return (puts, deletes);
    }

    private static bool Intersects(List<DeleteRangeRequest> deletes, ByteString key)
    {
        foreach (var delete in deletes)
        {
            if (KeyRange.Contains(delete.Key.Span, delete.RangeEnd, key.Span))
            {
                return true;
            }
        }

        return false;
    }
}
