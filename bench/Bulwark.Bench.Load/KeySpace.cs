using System.Globalization;
using System.Text;
using Google.Protobuf;

namespace Bulwark.Bench.Load;

/// <summary>The run's keys, made once: prefix + zero-padded number, exactly <see cref="LoadOptions.KeySize"/> bytes.</summary>
public sealed class KeySpace
{
    private readonly ByteString[] keys;

    public KeySpace(LoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var width = options.KeySize - options.KeyPrefix.Length;
        keys = new ByteString[options.KeySpace];
        for (var i = 0; i < keys.Length; i++)
        {
            var text = options.KeyPrefix + i.ToString(CultureInfo.InvariantCulture).PadLeft(width, '0');
            keys[i] = ByteString.CopyFrom(Encoding.ASCII.GetBytes(text));
        }
    }

    public int Count => keys.Length;

    public ByteString this[int index] => keys[index];

    /// <summary>The smallest key after every key of the space (range end of a prefix scan).</summary>
    public static ByteString PrefixEnd(string prefix)
    {
        var bytes = Encoding.ASCII.GetBytes(prefix);
        bytes[^1]++;
        return ByteString.CopyFrom(bytes);
    }
}
