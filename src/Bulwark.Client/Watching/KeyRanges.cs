using Google.Protobuf;

namespace Bulwark.Client;

/// <summary>etcd's range arithmetic: the end of a prefix range.</summary>
internal static class KeyRanges
{
    /// <summary>The smallest key greater than every key starting with <paramref name="prefix"/> (etcd's GetPrefixRangeEnd).</summary>
    public static ByteString PrefixEnd(ByteString prefix)
    {
        var bytes = prefix.ToByteArray();
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            if (bytes[i] < 0xff)
            {
                bytes[i]++;
                return ByteString.CopyFrom(bytes, 0, i + 1);
            }
        }

        // All 0xff: every key after the prefix ("\0" means "to the end").
        return ByteString.CopyFrom(0);
    }
}
