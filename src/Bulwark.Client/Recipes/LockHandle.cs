using Bulwark.Client.Recipes;

namespace Bulwark.Client;

/// <summary>
/// A held <see cref="DistributedLock"/>. <see cref="Lost"/> fires when holding can no longer be assumed: the session
/// is lost, the key was deleted (e.g. its lease revoked) or the lock was released. Guard effects outside Bulwark with
/// <see cref="Token"/> (see <see cref="FencedWrites"/>).
/// </summary>
public sealed class LockHandle : IAsyncDisposable
{
    private readonly Session session;
    private readonly KeyOwnership ownership;
    private int released;

    internal LockHandle(Session session, FencingToken token, long seenAt)
    {
        this.session = session;
        Token = token;
        ownership = new KeyOwnership(session, token.Key, token.Revision, seenAt);
    }

    /// <summary>The holder key and its create revision; larger for every later holder.</summary>
    public FencingToken Token { get; }

    /// <summary>Fires once the lock is no longer surely held.</summary>
    public CancellationToken Lost => ownership.Lost;

    /// <summary>Releases the lock (deletes the holder key if it is still this one's), then fires <see cref="Lost"/>.</summary>
    public async Task ReleaseAsync(CancellationToken ct = default)
    {
        if (Interlocked.Exchange(ref released, 1) != 0)
        {
            return;
        }

        try
        {
            ownership.Release();
            await Withdraw.DeleteAsync(session.Client, Token.Key, Token.Revision, ct).ConfigureAwait(false);
        }
        finally
        {
            await ownership.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Same as <see cref="ReleaseAsync"/>, never throwing (the key expires with the session otherwise).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref released) != 0)
        {
            return;
        }

        try
        {
            await ReleaseAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or OperationCanceledException or ObjectDisposedException)
        {
            // best effort
        }
    }
}
