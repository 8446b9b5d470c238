namespace Bulwark.Client;

/// <summary>A lock or election step could not complete because the session's lease is lost (or its key was deleted).</summary>
public sealed class SessionLostException : Exception
{
    /// <summary>Creates the exception for <paramref name="session"/>.</summary>
    public SessionLostException(Session session, string message)
        : base(message)
    {
        LeaseId = session?.LeaseId ?? 0;
    }

    /// <summary>The lost session's lease.</summary>
    public long LeaseId { get; }
}
