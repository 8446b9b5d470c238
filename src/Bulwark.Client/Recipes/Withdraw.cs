using Bulwark.Api.Etcdserverpb;
using Bulwark.Client.Calls;

namespace Bulwark.Client.Recipes;

/// <summary>Deleting one's own contender key, guarded by its create revision so a newer incarnation is never touched.</summary>
internal static class Withdraw
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>Deletes <paramref name="key"/> if it still has <paramref name="createRevision"/>. Retried freely: the guard re-checks.</summary>
    /// <returns>Whether this call deleted it.</returns>
    public static async Task<bool> DeleteAsync(BulwarkClient client, string key, long createRevision, CancellationToken ct)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(RecipeKeys.CreatedAt(key, createRevision));
        txn.Success.Add(RecipeKeys.Delete(key));
        var response = await client.TxnAsync(txn, CallRetry.Always, ct).ConfigureAwait(false);
        return response.Succeeded;
    }

    /// <summary>Like <see cref="DeleteAsync"/> but never throws: the key goes with the lease anyway.</summary>
    public static async Task BestEffortAsync(Session session, string key, long createRevision)
    {
        if (createRevision <= 0)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(Patience);
            await DeleteAsync(session.Client, key, createRevision, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or OperationCanceledException or ObjectDisposedException)
        {
            // the key expires with the session's lease
        }
    }
}
