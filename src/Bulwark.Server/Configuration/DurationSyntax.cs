using System.Globalization;

namespace Bulwark.Server.Configuration;

/// <summary>
/// Durations as etcd's flags take them (Go's time.ParseDuration: a sequence of number-and-unit parts, units ms, s, m,
/// h), plus a bare whole number meaning milliseconds, as Bulwark's other time settings are given.
/// </summary>
public static class DurationSyntax
{
    public static (bool Ok, TimeSpan Value) TryParse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
        {
            return ms <= (long)TimeSpan.MaxValue.TotalMilliseconds / 2 ? (true, TimeSpan.FromMilliseconds(ms)) : (false, default);
        }

        var total = TimeSpan.Zero;
        var rest = text.AsSpan();
        if (rest.IsEmpty)
        {
            return (false, default);
        }

        while (!rest.IsEmpty)
        {
            var digits = 0;
            while (digits < rest.Length && (char.IsAsciiDigit(rest[digits]) || rest[digits] == '.'))
            {
                digits++;
            }

            var units = digits;
            while (units < rest.Length && char.IsAsciiLetter(rest[units]))
            {
                units++;
            }

            if (digits == 0 || units == digits
                || !double.TryParse(rest[..digits], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            {
                return (false, default);
            }

            double? unitMs = rest[digits..units] switch
            {
                "ms" => 1,
                "s" => 1000,
                "m" => 60_000,
                "h" => 3_600_000,
                _ => null,
            };
            if (unitMs is null || amount * unitMs.Value > TimeSpan.FromDays(365).TotalMilliseconds)
            {
                return (false, default);
            }

            total += TimeSpan.FromMilliseconds(amount * unitMs.Value);
            rest = rest[units..];
        }

        return (true, total);
    }
}
