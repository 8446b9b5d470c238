using System.Security.Cryptography;

namespace Bulwark.Server.Api.Auth;

/// <summary>
/// Keeps password work from taking over the member and slows password guessing: at most a few PBKDF2 computations run
/// at once (the rest queue), and a refused login is answered only after <see cref="FailedLoginDelay"/>. A login for a
/// user that does not exist costs the same hash as one with a wrong password, so the answer's timing does not tell
/// which names exist.
/// </summary>
public sealed class LoginThrottle : IDisposable
{
    /// <summary>How long a refused login waits before its answer.</summary>
    public static readonly TimeSpan FailedLoginDelay = TimeSpan.FromSeconds(1);

    private static readonly Lazy<string> AbsentUserHash = new(() => PasswordHash.Hash(RandomNumberGenerator.GetHexString(32)));

    private readonly SemaphoreSlim hashing = new(Math.Max(1, Environment.ProcessorCount / 2));

    /// <summary>Computes a new hash for a password, off the caller's thread, within the concurrency limit.</summary>
    public Task<string> HashAsync(string password, CancellationToken cancellationToken) =>
        RunAsync(() => PasswordHash.Hash(password), cancellationToken);

    /// <summary>Whether the password matches the stored hash (null: no such user, checked against a dummy hash anyway).</summary>
    public Task<bool> VerifyAsync(string password, string? storedHash, CancellationToken cancellationToken) =>
        RunAsync(() => PasswordHash.Verify(password, storedHash ?? AbsentUserHash.Value) && storedHash is not null, cancellationToken);

    /// <summary>The pause before a refused login's answer.</summary>
    public static Task DelayFailureAsync(CancellationToken cancellationToken) => Task.Delay(FailedLoginDelay, cancellationToken);

    public void Dispose() => hashing.Dispose();

    private async Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        await hashing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await Task.Run(work, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            hashing.Release();
        }
    }
}
