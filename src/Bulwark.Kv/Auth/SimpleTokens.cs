using System.Collections.Concurrent;

namespace Bulwark.Kv.Auth;

/// <summary>
/// etcd's "simple" tokens: opaque strings a member hands out at login and every member records when it applies the
/// login, mapping to a user name. They live in memory only (a restarted member forgets them, as etcd's do; clients
/// log in again on "invalid auth token"), expire after <see cref="Ttl"/> unused, and are dropped when their user's
/// password, roles or role permissions change, when the user is deleted, and when auth is disabled.
/// Not part of the replicated state: never in snapshots or hashes.
/// </summary>
public sealed class SimpleTokens : ITokenScheme
{
    /// <summary>etcd's default --auth-token-ttl (300 s).</summary>
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromMinutes(5);

    private const int PruneEvery = 256;

    private readonly ConcurrentDictionary<string, Token> tokens = new(StringComparer.Ordinal);
    private readonly TimeProvider time;
    private int assignedSincePrune;

    public SimpleTokens(TimeProvider? time = null, TimeSpan? ttl = null)
    {
        this.time = time ?? TimeProvider.System;
        Ttl = ttl ?? DefaultTtl;
    }

    public TimeSpan Ttl { get; }

    public int Count => tokens.Count;

    public void Assign(string token, string user)
    {
        tokens[token] = new Token(user, time.GetTimestamp());
        if (++assignedSincePrune >= PruneEvery)
        {
            assignedSincePrune = 0;
            PruneExpired();
        }
    }

    /// <summary>The user a live token names (and keeps it alive), or null for an unknown or expired token.</summary>
    public string? UserOf(string token)
    {
        if (!tokens.TryGetValue(token, out var entry))
        {
            return null;
        }

        long now = time.GetTimestamp();
        if (time.GetElapsedTime(entry.LastUsed, now) > Ttl)
        {
            tokens.TryRemove(token, out _);
            return null;
        }

        tokens.TryUpdate(token, entry with { LastUsed = now }, entry);
        return entry.User;
    }

    /// <summary>A simple token stands for its user at the store's current revision: the table itself drops tokens
    /// whose user's password or roles changed, so a live token is never stale.</summary>
    public TokenHolder? Verify(string token, AuthStore auth)
    {
        ArgumentNullException.ThrowIfNull(auth);
        return UserOf(token) is { } user ? new TokenHolder(user, auth.Revision) : null;
    }

    public void InvalidateUser(string user)
    {
        foreach (var (token, entry) in tokens)
        {
            if (entry.User == user)
            {
                tokens.TryRemove(token, out _);
            }
        }
    }

    public void Clear() => tokens.Clear();

    internal void RetainUsers(Func<string, bool> exists)
    {
        foreach (var (token, entry) in tokens)
        {
            if (!exists(entry.User))
            {
                tokens.TryRemove(token, out _);
            }
        }
    }

    private void PruneExpired()
    {
        long now = time.GetTimestamp();
        foreach (var (token, entry) in tokens)
        {
            if (time.GetElapsedTime(entry.LastUsed, now) > Ttl)
            {
                tokens.TryRemove(token, out _);
            }
        }
    }

    private sealed record Token(string User, long LastUsed);
}
