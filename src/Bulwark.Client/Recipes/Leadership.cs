using Bulwark.Api.Etcdserverpb;
using Bulwark.Client.Calls;
using Bulwark.Client.Recipes;

namespace Bulwark.Client;

/// <summary>
/// Won leadership of a <see cref="LeaderElection"/>. <see cref="Lost"/> fires when leading can no longer be assumed:
/// the session is lost, the leader key was deleted or replaced, or this leader resigned. Guard effects with
/// <see cref="Token"/> (see <see cref="FencedWrites"/>): a deposed leader's guarded writes are refused.
/// </summary>
public sealed class Leadership : IAsyncDisposable
{
    private readonly Session session;
    private readonly KeyOwnership ownership;

    internal Leadership(Session session, FencingToken token, string value, long seenAt)
    {
        this.session = session;
        Token = token;
        Value = value;
        ownership = new KeyOwnership(session, token.Key, token.Revision, seenAt);
    }

    /// <summary>The leader key and its create revision; larger for every later leader.</summary>
    public FencingToken Token { get; }

    /// <summary>The value last proclaimed by this leader.</summary>
    public string Value { get; private set; }

    /// <summary>Fires once this instance no longer surely leads.</summary>
    public CancellationToken Lost => ownership.Lost;

    /// <summary>Sets the leader's value (observers see it) while still leading.</summary>
    /// <exception cref="InvalidOperationException">This instance no longer leads (its key is gone or replaced).</exception>
    public async Task ProclaimAsync(string value, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!await ProclaimAsync(session, Token.Key, Token.Revision, value, ct).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"not the leader any more: the key {Token.Key} created at revision {Token.Revision} is gone");
        }

        Value = value;
    }

    /// <summary>Gives up leadership: fires <see cref="Lost"/>, then deletes the leader key if it is still this one's.</summary>
    public Task ResignAsync(CancellationToken ct = default) => ownership.WithdrawAsync(ct);

    /// <summary>Same as <see cref="ResignAsync"/>, never throwing (the key expires with the session otherwise).</summary>
    public ValueTask DisposeAsync() => ownership.WithdrawQuietlyAsync();

    /// <summary>
    /// Puts <paramref name="value"/> on the key if it still has <paramref name="createRevision"/>. Not retried after it
    /// may have reached the server (observers would see the value twice).
    /// </summary>
    internal static async Task<bool> ProclaimAsync(Session session, string key, long createRevision, string value, CancellationToken ct)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(RecipeKeys.CreatedAt(key, createRevision));
        txn.Success.Add(RecipeKeys.Put(key, value, session.LeaseId));
        var response = await session.Client.TxnAsync(txn, CallRetry.WhenNotApplied, ct).ConfigureAwait(false);
        return response.Succeeded;
    }
}
