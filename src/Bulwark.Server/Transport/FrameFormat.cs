namespace Bulwark.Server.Transport;

/// <summary>
/// Layout of a frame: a 4-byte little-endian length (of everything after it), a version byte, a kind byte, then the body.
/// The length is checked against a bound before anything is allocated, so a bogus length cannot exhaust memory.
/// </summary>
public static class FrameFormat
{
    /// <summary>The only wire version this build speaks. A peer sending another version is disconnected.</summary>
    public const byte Version = 1;

    /// <summary>Bytes before the body: length (4), version (1), kind (1).</summary>
    public const int HeaderBytes = 6;

    /// <summary>Bytes of the length prefix itself.</summary>
    public const int LengthPrefixBytes = 4;

    /// <summary>The smallest sane limit: a frame must at least hold a handshake.</summary>
    public const int MinMaxFrameBytes = 64;

    /// <summary>Default bound on one frame (after the length prefix): generous for a 1 MiB Append plus one oversized entry.</summary>
    public const int DefaultMaxFrameBytes = 16 << 20;
}
