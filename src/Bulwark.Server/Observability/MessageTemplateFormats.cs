using System.Collections.Concurrent;

namespace Bulwark.Server.Observability;

/// <summary>
/// The format specifier of each named hole in a log message template ("node {NodeId:x} ..." gives NodeId -> "x"), so
/// a structured field can be written exactly as the message shows it: ids in hex in both places, as etcd logs them.
/// </summary>
internal static class MessageTemplateFormats
{
    private static readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, string>> Cache = new(StringComparer.Ordinal);

    /// <summary>Hole name -> format specifier, for the holes that have one.</summary>
    public static IReadOnlyDictionary<string, string> Of(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        return Cache.GetOrAdd(template, Parse);
    }

    private static Dictionary<string, string> Parse(string template)
    {
        var formats = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < template.Length; i++)
        {
            if (template[i] != '{')
            {
                continue;
            }

            if (i + 1 < template.Length && template[i + 1] == '{')
            {
                i++; // "{{" is a literal brace
                continue;
            }

            var end = template.IndexOf('}', i + 1);
            if (end < 0)
            {
                break;
            }

            var hole = template.AsSpan(i + 1, end - i - 1);
            var colon = hole.IndexOf(':');
            if (colon > 0)
            {
                var name = hole[..colon];
                var comma = name.IndexOf(',');
                formats[(comma >= 0 ? name[..comma] : name).Trim().ToString()] = hole[(colon + 1)..].ToString();
            }

            i = end;
        }

        return formats;
    }
}
