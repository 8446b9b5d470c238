using Bulwark.Client.Recipes;

namespace Bulwark.Client;

/// <summary>
/// A held <see cref="DistributedLock"/>. <see cref="Lost"/> fires when holding can no longer be assumed: the session
/// is lost, the key was deleted (e.g. its lease revoked) or the lock was released. Guard effects outside Bulwark with
/// <see cref="Token"/> (see <see cref="FencedWrites"/>).
/// </summary>
public sealed class LockHandle : IAsyncDisposable
{
    private readonly KeyOwnership ownership;

    internal LockHandle(Session session, FencingToken token, long seenAt)
    {
        Token = token;
        ownership = new KeyOwnership(session, token.Key, token.Revision, seenAt);
    }

    /// <summary>The holder key and its create revision; larger for every later holder.</summary>
    public FencingToken Token { get; }

    /// <summary>Fires once the lock is no longer surely held.</summary>
    public CancellationToken Lost => ownership.Lost;

    /// <summary>Releases the lock: fires <see cref="Lost"/>, then deletes the holder key if it is still this one's.</summary>
    public Task ReleaseAsync(CancellationToken ct = default) => ownership.WithdrawAsync(ct);

    /// <summary>Same as <see cref="ReleaseAsync"/>, never throwing (the key expires with the session otherwise).</summary>
    public ValueTask DisposeAsync() => ownership.WithdrawQuietlyAsync();
}
