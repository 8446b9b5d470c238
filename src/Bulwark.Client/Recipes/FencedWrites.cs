using Bulwark.Api.Etcdserverpb;
using Bulwark.Client.Calls;
using Google.Protobuf;

namespace Bulwark.Client;

/// <summary>
/// Writes that only happen while a <see cref="FencingToken"/> is current: one transaction that compares the token
/// key's create revision with the token's and writes only when they match. A holder that lost its lock or leadership
/// (its key deleted with its lease, or a new key created) gets Succeeded = false and nothing changes, however late its
/// write arrives. Not retried after a failure that may have reached the server (a guarded write would pass the guard
/// twice); the caller decides after reading what happened.
/// </summary>
public static class FencedWrites
{
    /// <summary>Puts <paramref name="value"/> at <paramref name="key"/> only while <paramref name="token"/> is current.</summary>
    /// <returns>True when written; false when refused (the token is stale).</returns>
    /// <exception cref="ArgumentException">The key or the token's key is empty.</exception>
    public static async Task<bool> TryPutAsync(this BulwarkClient client, FencingToken token, string key, string value, CancellationToken ct = default)
    {
        BulwarkClient.RequireKey(key, nameof(key));
        ArgumentNullException.ThrowIfNull(value);
        var put = new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } };
        var response = await client.GuardedTxnAsync(token, [], [put], ct).ConfigureAwait(false);
        return response.Succeeded;
    }

    /// <summary>
    /// Runs <paramref name="onSuccess"/> only when <paramref name="token"/> is current and every one of
    /// <paramref name="extraCompares"/> holds. Succeeded = false means refused: nothing was written.
    /// </summary>
    /// <exception cref="ArgumentException">The token's key is empty.</exception>
    public static Task<TxnResponse> GuardedTxnAsync(
        this BulwarkClient client,
        FencingToken token,
        IEnumerable<Compare> extraCompares,
        IEnumerable<RequestOp> onSuccess,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(extraCompares);
        ArgumentNullException.ThrowIfNull(onSuccess);
        BulwarkClient.RequireKey(token.Key, nameof(token));
        if (token.Revision <= 0)
        {
            throw new ArgumentException($"a fencing token's revision is positive (was {token.Revision})", nameof(token));
        }

        var txn = new TxnRequest();
        txn.Compare.Add(Recipes.RecipeKeys.CreatedAt(token.Key, token.Revision));
        txn.Compare.Add(extraCompares);
        txn.Success.Add(onSuccess);
        return client.TxnAsync(txn, CallRetry.WhenNotApplied, ct);
    }
}
