using System.Globalization;
using System.Text.Json;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Google.Protobuf;

namespace Bulwark.Cli.Client;

/// <summary>How a KV answer is printed: the format, and the etcdctl flags that shape a get's lines.</summary>
/// <param name="Hex">Keys and values as etcdctl's \xNN hex instead of their bytes.</param>
/// <param name="KeysOnly">A get asked for keys only (simple output still prints the empty value line, as etcdctl does).</param>
/// <param name="ValuesOnly">Print values without their keys (etcdctl's --print-value-only).</param>
/// <param name="CountOnly">A get asked only for the count: simple and table print it.</param>
public sealed record KvView(OutputFormat Format, bool Hex = false, bool KeysOnly = false, bool ValuesOnly = false, bool CountOnly = false);

/// <summary>
/// Prints KV responses: simple output the way etcdctl's default format does (so scripts written for one work with the
/// other), with keys and values written as their raw bytes; JSON shaped like etcdctl's (<see cref="KvJson"/>); or
/// tables.
/// </summary>
public static class KvPrinter
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static void Put(ByteOutput output, PutResponse response, KvView view)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(view);
        switch (view.Format)
        {
            case OutputFormat.Json:
                WriteJson(output, w => KvJson.Put(w, response));
                break;
            case OutputFormat.Table:
                TextTable.Write(output.Text, ["REVISION"], [[Number(response.Header?.Revision ?? 0)]]);
                if (response.PrevKv is { } prev)
                {
                    output.WriteLine("");
                    KeyValueTable(output, [prev], view);
                }

                break;
            default:
                output.WriteLine("OK");
                if (response.PrevKv is { } previous)
                {
                    KeyValueLines(output, previous, view);
                }

                break;
        }
    }

    public static void Range(ByteOutput output, RangeResponse response, KvView view)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(view);
        switch (view.Format)
        {
            case OutputFormat.Json:
                WriteJson(output, w => KvJson.Range(w, response));
                break;
            case OutputFormat.Table when view.CountOnly:
                TextTable.Write(output.Text, ["COUNT"], [[Number(response.Count)]]);
                break;
            case OutputFormat.Table:
                KeyValueTable(output, response.Kvs, view);
                break;
            default:
                if (view.CountOnly)
                {
                    output.WriteLine(Number(response.Count));
                    break;
                }

                foreach (var kv in response.Kvs)
                {
                    KeyValueLines(output, kv, view);
                }

                break;
        }
    }

    public static void Delete(ByteOutput output, DeleteRangeResponse response, KvView view)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(view);
        switch (view.Format)
        {
            case OutputFormat.Json:
                WriteJson(output, w => KvJson.Delete(w, response));
                break;
            case OutputFormat.Table:
                TextTable.Write(output.Text, ["DELETED", "REVISION"], [[Number(response.Deleted), Number(response.Header?.Revision ?? 0)]]);
                if (response.PrevKvs.Count > 0)
                {
                    output.WriteLine("");
                    KeyValueTable(output, response.PrevKvs, view);
                }

                break;
            default:
                output.WriteLine(Number(response.Deleted));
                foreach (var kv in response.PrevKvs)
                {
                    KeyValueLines(output, kv, view);
                }

                break;
        }
    }

    public static void Txn(ByteOutput output, TxnResponse response, KvView view)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(view);
        if (view.Format == OutputFormat.Json)
        {
            WriteJson(output, w => KvJson.Txn(w, response));
            return;
        }

        if (view.Format == OutputFormat.Table)
        {
            TextTable.Write(output.Text, ["SUCCEEDED", "REVISION"], [[response.Succeeded ? "true" : "false", Number(response.Header?.Revision ?? 0)]]);
        }
        else
        {
            output.WriteLine(response.Succeeded ? "SUCCESS" : "FAILURE");
        }

        foreach (var op in response.Responses)
        {
            output.WriteLine("");
            switch (op.ResponseCase)
            {
                case ResponseOp.ResponseOneofCase.ResponsePut:
                    Put(output, op.ResponsePut, view);
                    break;
                case ResponseOp.ResponseOneofCase.ResponseRange:
                    Range(output, op.ResponseRange, view);
                    break;
                case ResponseOp.ResponseOneofCase.ResponseDeleteRange:
                    Delete(output, op.ResponseDeleteRange, view);
                    break;
                case ResponseOp.ResponseOneofCase.ResponseTxn:
                    Txn(output, op.ResponseTxn, view);
                    break;
                default:
                    output.WriteLine("(empty response)");
                    break;
            }
        }
    }

    /// <summary>Indented camelCase JSON for answers that are not etcd messages (e.g. `bulwark status`).</summary>
    public static void WriteJson(TextWriter output, object value)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine(JsonSerializer.Serialize(value, Json));
    }

    private static void WriteJson(ByteOutput output, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    /// <summary>etcdctl's lines for one key: the key (unless values only), then the value.</summary>
    private static void KeyValueLines(ByteOutput output, KeyValue kv, KvView view)
    {
        if (!view.ValuesOnly)
        {
            Bytes(output, kv.Key, view);
        }

        Bytes(output, kv.Value, view);
    }

    private static void Bytes(ByteOutput output, ByteString bytes, KvView view)
    {
        if (view.Hex)
        {
            output.WriteLine(KvBytes.ToHex(bytes));
        }
        else
        {
            output.WriteLine(bytes.Span);
        }
    }

    private static void KeyValueTable(ByteOutput output, IEnumerable<KeyValue> kvs, KvView view)
    {
        Func<ByteString, string> show = view.Hex ? KvBytes.ToHex : KvBytes.ToDisplay;
        if (view.KeysOnly)
        {
            TextTable.Write(output.Text, ["KEY"], kvs.Select(kv => new[] { show(kv.Key) }).ToList());
            return;
        }

        TextTable.Write(
            output.Text,
            ["KEY", "VALUE", "CREATE_REVISION", "MOD_REVISION", "VERSION", "LEASE"],
            kvs.Select(kv => new[] { show(kv.Key), show(kv.Value), Number(kv.CreateRevision), Number(kv.ModRevision), Number(kv.Version), kv.Lease.ToString("x", CultureInfo.InvariantCulture) }).ToList());
    }

    private static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);
}
