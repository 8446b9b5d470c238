using System.Globalization;
using Bulwark.Api.Etcdserverpb;
using Google.Protobuf;

namespace Bulwark.Bench.Compare;

/// <summary>
/// Writes N keys (16 bytes: <c>prefix</c> then the index zero-padded, "m" + 15 digits unless told; 256-byte values)
/// in transactions of <c>batchSize</c> puts (100 unless told; at most 128, both servers' default --max-txn-ops) from
/// 16 writers. With <c>retries</c> given, a Txn refused as Unavailable (an election under the load: "leader changed",
/// "no leader") is sent again after 200 ms, as a bulk loader would (the puts are idempotent), and counted there.
/// </summary>
public static class KeyLoader
{
    private const int Writers = 16;

    /// <summary>How many Txns were sent again after an Unavailable answer.</summary>
    public sealed class Retries
    {
        private int count;

        public int Count => Volatile.Read(ref count);

        public void Add() => Interlocked.Increment(ref count);
    }

    public static Task LoadAsync(KV.KVClient kv, int keys, string prefix = "m", int batchSize = 100, Retries? retries = null)
    {
        var value = ByteString.CopyFrom(new byte[256]);
        var digits = "D" + (16 - prefix.Length).ToString(CultureInfo.InvariantCulture);
        var batches = (keys + batchSize - 1) / batchSize;
        var next = -1;
        return Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            int b;
            while ((b = Interlocked.Increment(ref next)) < batches)
            {
                var txn = new TxnRequest();
                for (var k = b * batchSize; k < Math.Min(keys, (b + 1) * batchSize); k++)
                {
                    var key = ByteString.CopyFromUtf8(prefix + k.ToString(digits, CultureInfo.InvariantCulture));
                    txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = value } });
                }

                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await kv.TxnAsync(txn, deadline: DateTime.UtcNow.AddSeconds(120)).ResponseAsync.ConfigureAwait(false);
                        break;
                    }
                    catch (Grpc.Core.RpcException e) when (retries is not null && e.StatusCode == Grpc.Core.StatusCode.Unavailable && attempt < 100)
                    {
                        retries.Add();
                        await Task.Delay(200).ConfigureAwait(false);
                    }
                }
            }
        })));
    }
}
