using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.Mvccpb;
using Bulwark.Client.Calls;

namespace Bulwark.Client.Recipes;

/// <summary>
/// The steps locks and elections share (etcd's concurrency package): enter the queue by creating the own key if absent,
/// then wait until every key created before it is deleted.
/// </summary>
internal static class Contention
{
    /// <summary>
    /// Creates <paramref name="key"/> with <paramref name="value"/> on the session's lease unless it exists, and reads it
    /// either way. Retried freely: a repeat finds the key it created and only reads it.
    /// </summary>
    /// <returns>Whether it was created now, the key as stored (create revision, value), and the transaction's revision.</returns>
    public static async Task<(bool Created, KeyValue Kv, long Revision)> EnterAsync(Session session, string key, string value, CancellationToken ct)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(RecipeKeys.CreatedAt(key, 0));
        txn.Success.Add(RecipeKeys.Put(key, value, session.LeaseId));
        txn.Success.Add(RecipeKeys.Get(key));
        txn.Failure.Add(RecipeKeys.Get(key));
        var response = await session.Client.TxnAsync(txn, CallRetry.Always, ct).ConfigureAwait(false);
        var read = response.Responses[^1].ResponseRange;
        if (read.Kvs.Count == 0)
        {
            // Only possible if the lease expired in between: the key went with it.
            throw new SessionLostException(session, $"the key {key} vanished right after it was created: the session's lease is gone");
        }

        return (response.Succeeded, read.Kvs[0], response.Header.Revision);
    }

    /// <summary>Waits until no key under <paramref name="prefix"/> created at or before <paramref name="maxCreateRevision"/> is left.</summary>
    /// <returns>The revision at which that was seen.</returns>
    public static async Task<long> WaitDeletesAsync(BulwarkClient client, string prefix, long maxCreateRevision, CancellationToken ct)
    {
        while (true)
        {
            var older = await client.RangeAsync(RecipeKeys.LastCreatedBefore(prefix, maxCreateRevision), ct).ConfigureAwait(false);
            if (older.Kvs.Count == 0)
            {
                return older.Header.Revision;
            }

            await WaitDeleteAsync(client, older.Kvs[0].Key.ToStringUtf8(), older.Header.Revision, ct).ConfigureAwait(false);
        }
    }

    private static async Task WaitDeleteAsync(BulwarkClient client, string key, long seenAt, CancellationToken ct)
    {
        try
        {
            await foreach (var e in client.WatchAsync(key, new WatchOptions(StartRevision: seenAt + 1), ct).ConfigureAwait(false))
            {
                if (e.Type == Event.Types.EventType.Delete)
                {
                    return;
                }
            }
        }
        catch (WatchCompactedException)
        {
            // History since the read is gone: the caller reads the queue again, which is what matters.
        }
    }
}
