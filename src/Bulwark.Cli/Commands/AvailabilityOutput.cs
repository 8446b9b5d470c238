using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Bulwark.Availability;

namespace Bulwark.Cli.Commands;

/// <summary>Formatting and error handling shared by the `bulwark availability` commands.</summary>
internal static class AvailabilityOutput
{
    public const int InputError = 2;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>A fresh `--json` option; each command gets its own instance, as an option belongs to its command.</summary>
    public static Option<bool> NewJsonOption() => new("--json") { Description = "Print machine-readable JSON instead of a table." };

    /// <summary>Runs a command body, turning bad input into a one-line error naming the field and exit code 2.</summary>
    public static int Run(ParseResult parse, Func<TextWriter, int> body)
    {
        var config = parse.InvocationConfiguration;
        try
        {
            return body(config.Output);
        }
        catch (AvailabilityInputException e)
        {
            config.Error.WriteLine($"error: {e.Reason} [{e.Field}]");
            return InputError;
        }
        catch (IOException e)
        {
            config.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (UnauthorizedAccessException e)
        {
            config.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    public static void WriteJson(TextWriter output, object value) => output.WriteLine(JsonSerializer.Serialize(value, Json));

    /// <summary>A two-column table: a heading line, then aligned "name  value" rows; null rows print a blank line.</summary>
    public static void WriteTable(TextWriter output, string heading, IEnumerable<(string Name, string Value)?> rows)
    {
        var list = rows.ToList();
        int width = list.Where(r => r is not null).Select(r => r!.Value.Name.Length).DefaultIfEmpty(0).Max();
        var sb = new StringBuilder();
        sb.AppendLine(heading);
        sb.AppendLine(new string('-', Math.Max(heading.Length, 8)));
        foreach (var row in list)
        {
            if (row is { } r)
            {
                sb.Append("  ").Append(r.Name.PadRight(width)).Append("  ").AppendLine(r.Value);
            }
            else
            {
                sb.AppendLine();
            }
        }

        output.Write(sb.ToString());
    }

    /// <summary>A probability near 1, with 12 decimals.</summary>
    public static string Probability(double p) => p.ToString("0.############", CultureInfo.InvariantCulture);

    /// <summary>A small quantity in scientific notation with 7 significant digits.</summary>
    public static string Small(double v) => v == 0 ? "0" : v.ToString("0.000000e+00", CultureInfo.InvariantCulture);

    public static string Number(double v, string format = "0.####") =>
        double.IsPositiveInfinity(v) ? "∞" : v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Hours, with the same span in a friendlier unit when it is large or small.</summary>
    public static string Hours(double h)
    {
        if (double.IsPositiveInfinity(h))
        {
            return "∞";
        }

        string hours = h.ToString(h >= 100 ? "#,0.##" : "0.####", CultureInfo.InvariantCulture) + " h";
        if (h >= 24 * 365.25)
        {
            return $"{hours} ({(h / 8766).ToString("#,0.##", CultureInfo.InvariantCulture)} years)";
        }

        if (h >= 48)
        {
            return $"{hours} ({(h / 24).ToString("0.#", CultureInfo.InvariantCulture)} days)";
        }

        if (h < 1 && h > 0)
        {
            return $"{hours} ({(h * 60).ToString("0.##", CultureInfo.InvariantCulture)} min)";
        }

        return hours;
    }

    /// <summary>Parses "0.99,0.01; 0.5,0.5" (rows split by ';', entries by ',' or spaces) into a matrix.</summary>
    public static double[,] ParseMatrix(string text, string field)
    {
        var rows = text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select((row, i) => row.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries)
                .Select((cell, j) => double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                    ? v
                    : throw new AvailabilityInputException($"{field}[{i},{j}]", $"{field} entry [{i},{j}] is '{cell}', not a number"))
                .ToArray())
            .ToArray();
        if (rows.Length == 0)
        {
            throw new AvailabilityInputException(field, $"{field} is empty; write rows separated by ';' and entries by ',', e.g. \"0.99,0.01;0.5,0.5\"");
        }

        for (int i = 0; i < rows.Length; i++)
        {
            if (rows[i].Length != rows.Length)
            {
                throw new AvailabilityInputException($"{field}[{i}]", $"{field} row {i} has {rows[i].Length} entries; a {rows.Length}-state matrix needs {rows.Length} per row");
            }
        }

        var m = new double[rows.Length, rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            for (int j = 0; j < rows.Length; j++)
            {
                m[i, j] = rows[i][j];
            }
        }

        return m;
    }
}
