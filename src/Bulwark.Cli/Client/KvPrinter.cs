using System.Text.Json;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;

namespace Bulwark.Cli.Client;

/// <summary>
/// Prints KV responses: as text the way etcdctl's simple format does (so scripts written for one work with the
/// other), or as JSON with keys and values as UTF-8 strings.
/// </summary>
public static class KvPrinter
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static void Put(TextWriter output, PutResponse response, bool json)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(response);
        if (json)
        {
            WriteJson(output, new { revision = response.Header.Revision, raftTerm = response.Header.RaftTerm });
        }
        else
        {
            output.WriteLine("OK");
        }
    }

    public static void Range(TextWriter output, RangeResponse response, bool json)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(response);
        if (json)
        {
            WriteJson(output, new { revision = response.Header.Revision, count = response.Count, more = response.More, kvs = response.Kvs.Select(Describe) });
            return;
        }

        foreach (var kv in response.Kvs)
        {
            output.WriteLine(kv.Key.ToStringUtf8());
            output.WriteLine(kv.Value.ToStringUtf8());
        }
    }

    public static void Delete(TextWriter output, DeleteRangeResponse response, bool json)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(response);
        if (json)
        {
            WriteJson(output, new { revision = response.Header.Revision, deleted = response.Deleted });
        }
        else
        {
            output.WriteLine(response.Deleted);
        }
    }

    public static void Txn(TextWriter output, TxnResponse response, bool json)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(response);
        if (json)
        {
            WriteJson(output, new { revision = response.Header.Revision, succeeded = response.Succeeded, responses = response.Responses.Select(DescribeOp) });
            return;
        }

        output.WriteLine(response.Succeeded ? "SUCCESS" : "FAILURE");
        foreach (var op in response.Responses)
        {
            output.WriteLine();
            switch (op.ResponseCase)
            {
                case ResponseOp.ResponseOneofCase.ResponsePut:
                    Put(output, op.ResponsePut, json: false);
                    break;
                case ResponseOp.ResponseOneofCase.ResponseRange:
                    Range(output, op.ResponseRange, json: false);
                    break;
                case ResponseOp.ResponseOneofCase.ResponseDeleteRange:
                    Delete(output, op.ResponseDeleteRange, json: false);
                    break;
                case ResponseOp.ResponseOneofCase.ResponseTxn:
                    Txn(output, op.ResponseTxn, json: false);
                    break;
                default:
                    output.WriteLine("(empty response)");
                    break;
            }
        }
    }

    public static void WriteJson(TextWriter output, object value)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine(JsonSerializer.Serialize(value, Json));
    }

    private static object Describe(KeyValue kv) => new
    {
        key = kv.Key.ToStringUtf8(),
        value = kv.Value.ToStringUtf8(),
        createRevision = kv.CreateRevision,
        modRevision = kv.ModRevision,
        version = kv.Version,
        lease = kv.Lease,
    };

    private static object DescribeOp(ResponseOp op) => op.ResponseCase switch
    {
        ResponseOp.ResponseOneofCase.ResponsePut => new { put = new { revision = op.ResponsePut.Header?.Revision } },
        ResponseOp.ResponseOneofCase.ResponseRange => new { range = new { count = op.ResponseRange.Count, kvs = op.ResponseRange.Kvs.Select(Describe) } },
        ResponseOp.ResponseOneofCase.ResponseDeleteRange => new { delete = new { deleted = op.ResponseDeleteRange.Deleted } },
        ResponseOp.ResponseOneofCase.ResponseTxn => new { txn = new { succeeded = op.ResponseTxn.Succeeded, responses = op.ResponseTxn.Responses.Select(DescribeOp) } },
        _ => new { },
    };
}
