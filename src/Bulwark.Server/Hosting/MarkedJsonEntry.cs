using System.Text.Json;

namespace Bulwark.Server.Hosting;

/// <summary>
/// The encoding of the host's own Normal entries (member attributes, member peer URLs): one marker byte that cannot
/// start a protobuf message (a tag of a wire type protobuf does not have), then the record as JSON.
/// </summary>
internal static class MarkedJsonEntry
{
    public static bool Has(byte marker, ReadOnlySpan<byte> data) => !data.IsEmpty && data[0] == marker;

    public static byte[] Encode<T>(byte marker, T value)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(value);
        var data = new byte[json.Length + 1];
        data[0] = marker;
        json.CopyTo(data, 1);
        return data;
    }

    /// <param name="what">What the entry is, for the error ("member-attributes entry").</param>
    public static T Decode<T>(byte marker, ReadOnlySpan<byte> data, string what)
        where T : class
    {
        if (!Has(marker, data))
        {
            throw new InvalidDataException($"not a {what}");
        }

        return JsonSerializer.Deserialize<T>(data[1..]) ?? throw new InvalidDataException($"a {what} holds empty JSON");
    }
}
