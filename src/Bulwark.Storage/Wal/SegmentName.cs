using System.Globalization;

namespace Bulwark.Storage.Wal;

/// <summary>Segment file names: "{sequence:x16}-{firstIndex:x16}.wal", so a directory listing sorts them in log order.</summary>
internal static class SegmentName
{
    public const string Extension = ".wal";

    public static string Format(ulong sequence, ulong firstIndex) =>
        $"{sequence.ToString("x16", CultureInfo.InvariantCulture)}-{firstIndex.ToString("x16", CultureInfo.InvariantCulture)}{Extension}";

    public static bool TryParse(string name, out ulong sequence)
    {
        sequence = 0;
        return name.Length == 16 + 1 + 16 + Extension.Length && name.EndsWith(Extension, StringComparison.Ordinal) && name[16] == '-' &&
               ulong.TryParse(name.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out sequence) &&
               ulong.TryParse(name.AsSpan(17, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _);
    }
}
