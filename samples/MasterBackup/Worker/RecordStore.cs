using System.Text;
using System.Text.Json;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Client;
using Google.Protobuf;

namespace MasterBackup.Worker;

/// <summary>
/// The records key range: <c>{prefix}{n:D10}</c> -> JSON <see cref="Record"/>. Zero-padded numbers make key order
/// numeric order, so the last record is one sorted range read.
/// </summary>
public sealed class RecordStore(BulwarkClient client, string prefix)
{
    public string Prefix => prefix;

    public string Key(long n) => FormattableString.Invariant($"{prefix}{n:D10}");

    /// <summary>The record with the highest number, or null when there is none (linearizable read).</summary>
    public async Task<Record?> ReadLastAsync(CancellationToken cancellationToken)
    {
        var request = new RangeRequest
        {
            Key = ByteString.CopyFromUtf8(prefix),
            RangeEnd = PrefixEnd(prefix),
            SortOrder = RangeRequest.Types.SortOrder.Descend,
            SortTarget = RangeRequest.Types.SortTarget.Key,
            Limit = 1,
        };
        var response = await client.RangeAsync(request, cancellationToken).ConfigureAwait(false);
        return response.Kvs.Count == 0 ? null : Parse(response.Kvs[0].Value);
    }

    /// <summary>
    /// Appends <paramref name="record"/> if <paramref name="token"/>'s leadership still holds and no record with its
    /// number exists yet, in one Txn; false when either compare failed (this instance is no longer the master, or
    /// another wrote the number first: both mean step down).
    /// </summary>
    public async Task<bool> TryAppendAsync(FencingToken token, Record record, CancellationToken cancellationToken)
    {
        var key = ByteString.CopyFromUtf8(Key(record.N));
        var notYetWritten = new Compare
        {
            Key = key,
            Target = Compare.Types.CompareTarget.Create,
            Result = Compare.Types.CompareResult.Equal,
            CreateRevision = 0,
        };
        var put = new RequestOp
        {
            RequestPut = new PutRequest { Key = key, Value = ByteString.CopyFrom(JsonSerializer.SerializeToUtf8Bytes(record, SampleJson.Default.Record)) },
        };
        var response = await client.GuardedTxnAsync(token, [notYetWritten], [put], cancellationToken).ConfigureAwait(false);
        return response.Succeeded;
    }

    public static Record Parse(ByteString value) =>
        JsonSerializer.Deserialize(value.Span, SampleJson.Default.Record)
        ?? throw new InvalidDataException($"not a record: {Encoding.UTF8.GetString(value.Span)}");

    /// <summary>The range end that covers every key starting with <paramref name="prefix"/> (etcd's prefix rule).</summary>
    public static ByteString PrefixEnd(string prefix)
    {
        var bytes = Encoding.UTF8.GetBytes(prefix);
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            if (bytes[i] < 0xff)
            {
                bytes[i]++;
                return ByteString.CopyFrom(bytes, 0, i + 1);
            }
        }

        return ByteString.CopyFrom(0);
    }
}
