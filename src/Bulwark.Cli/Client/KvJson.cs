using System.Text.Json;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Google.Protobuf;

namespace Bulwark.Cli.Client;

/// <summary>
/// KV responses as etcdctl's <c>-w json</c> prints them (Go's encoding of the etcd protobuf structs): one line,
/// snake_case fields in declaration order, keys and values base64, fields at their zero value left out.
/// </summary>
public static class KvJson
{
    public static void Put(Utf8JsonWriter json, PutResponse response)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(response);
        json.WriteStartObject();
        Header(json, response.Header);
        if (response.PrevKv is { } prev)
        {
            json.WritePropertyName("prev_kv");
            KeyValue(json, prev);
        }

        json.WriteEndObject();
    }

    public static void Range(Utf8JsonWriter json, RangeResponse response)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(response);
        json.WriteStartObject();
        Header(json, response.Header);
        KeyValues(json, "kvs", response.Kvs);
        if (response.More)
        {
            json.WriteBoolean("more", true);
        }

        Number(json, "count", response.Count);
        json.WriteEndObject();
    }

    public static void Delete(Utf8JsonWriter json, DeleteRangeResponse response)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(response);
        json.WriteStartObject();
        Header(json, response.Header);
        Number(json, "deleted", response.Deleted);
        KeyValues(json, "prev_kvs", response.PrevKvs);
        json.WriteEndObject();
    }

    public static void Txn(Utf8JsonWriter json, TxnResponse response)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(response);
        json.WriteStartObject();
        Header(json, response.Header);
        if (response.Succeeded)
        {
            json.WriteBoolean("succeeded", true);
        }

        if (response.Responses.Count > 0)
        {
            json.WriteStartArray("responses");
            foreach (var op in response.Responses)
            {
                // Go's oneof wrapper, whose field has no json tag, so its Go names: {"Response":{"ResponsePut":{...}}}.
                json.WriteStartObject();
                json.WriteStartObject("Response");
                switch (op.ResponseCase)
                {
                    case ResponseOp.ResponseOneofCase.ResponsePut:
                        json.WritePropertyName("ResponsePut");
                        Put(json, op.ResponsePut);
                        break;
                    case ResponseOp.ResponseOneofCase.ResponseRange:
                        json.WritePropertyName("ResponseRange");
                        Range(json, op.ResponseRange);
                        break;
                    case ResponseOp.ResponseOneofCase.ResponseDeleteRange:
                        json.WritePropertyName("ResponseDeleteRange");
                        Delete(json, op.ResponseDeleteRange);
                        break;
                    case ResponseOp.ResponseOneofCase.ResponseTxn:
                        json.WritePropertyName("ResponseTxn");
                        Txn(json, op.ResponseTxn);
                        break;
                }

                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    private static void Header(Utf8JsonWriter json, ResponseHeader? header)
    {
        if (header is null)
        {
            return;
        }

        json.WriteStartObject("header");
        Number(json, "cluster_id", header.ClusterId);
        Number(json, "member_id", header.MemberId);
        Number(json, "revision", header.Revision);
        Number(json, "raft_term", header.RaftTerm);
        json.WriteEndObject();
    }

    private static void KeyValues(Utf8JsonWriter json, string name, IReadOnlyCollection<KeyValue> kvs)
    {
        if (kvs.Count == 0)
        {
            return;
        }

        json.WriteStartArray(name);
        foreach (var kv in kvs)
        {
            KeyValue(json, kv);
        }

        json.WriteEndArray();
    }

    private static void KeyValue(Utf8JsonWriter json, KeyValue kv)
    {
        json.WriteStartObject();
        Bytes(json, "key", kv.Key);
        Number(json, "create_revision", kv.CreateRevision);
        Number(json, "mod_revision", kv.ModRevision);
        Number(json, "version", kv.Version);
        Bytes(json, "value", kv.Value);
        Number(json, "lease", kv.Lease);
        json.WriteEndObject();
    }

    private static void Bytes(Utf8JsonWriter json, string name, ByteString bytes)
    {
        if (!bytes.IsEmpty)
        {
            json.WriteBase64String(name, bytes.Span);
        }
    }

    private static void Number(Utf8JsonWriter json, string name, long value)
    {
        if (value != 0)
        {
            json.WriteNumber(name, value);
        }
    }

    private static void Number(Utf8JsonWriter json, string name, ulong value)
    {
        if (value != 0)
        {
            json.WriteNumber(name, value);
        }
    }
}
