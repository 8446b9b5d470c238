using System.Globalization;
using Bulwark.Api.Etcdserverpb;
using Google.Protobuf;

namespace Bulwark.Bench.Compare;

/// <summary>Writes N keys ("m" + 15 digits, 256-byte values) in transactions of 100 puts from 16 writers.</summary>
public static class KeyLoader
{
    private const int BatchSize = 100;
    private const int Writers = 16;

    public static Task LoadAsync(KV.KVClient kv, int keys)
    {
        var value = ByteString.CopyFrom(new byte[256]);
        var batches = (keys + BatchSize - 1) / BatchSize;
        var next = -1;
        return Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            int b;
            while ((b = Interlocked.Increment(ref next)) < batches)
            {
                var txn = new TxnRequest();
                for (var k = b * BatchSize; k < Math.Min(keys, (b + 1) * BatchSize); k++)
                {
                    var key = ByteString.CopyFromUtf8("m" + k.ToString("D15", CultureInfo.InvariantCulture));
                    txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = value } });
                }

                await kv.TxnAsync(txn, deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync.ConfigureAwait(false);
            }
        })));
    }
}
