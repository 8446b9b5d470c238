namespace Bulwark.Server.Api.Http2;

/// <summary>A header block that is not valid HPACK (RFC 7541).</summary>
internal sealed class HpackException : Exception
{
    public HpackException(string message)
        : base(message)
    {
    }

    public HpackException()
    {
    }

    public HpackException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
