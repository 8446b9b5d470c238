using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace Bulwark.Cli;

/// <summary>System.CommandLine's parse errors reworded for people: no .NET type names.</summary>
public static partial class ParseErrors
{
    /// <summary>
    /// "Cannot parse argument 'x' for option '--rev' as expected type 'System.Int64'." becomes
    /// "'x' is not a valid value for --rev: expected a whole number." Other messages keep their words, with any type
    /// name replaced by what it means.
    /// </summary>
    public static string InPlainWords(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var match = CannotParse().Match(message);
        if (match.Success)
        {
            var symbol = match.Groups["kind"].Value == "option" ? match.Groups["name"].Value : $"argument {match.Groups["name"].Value}";
            return $"'{match.Groups["value"].Value}' is not a valid value for {symbol}: expected {Describe(match.Groups["type"].Value)}.";
        }

        // One line per error: a list of allowed values comes as "Must be one of:\n\t'a'\n\t'b'".
        var text = TypeName().Replace(message, m => Describe(m.Groups["type"].Value));
        return string.Join(' ', text.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary>"bulwark get" for a parse of `bulwark get ...`.</summary>
    public static string CommandPath(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var names = new List<string>();
        for (SymbolResult? result = parse.CommandResult; result is not null; result = result.Parent)
        {
            if (result is CommandResult command)
            {
                names.Add(command.Command is RootCommand ? "bulwark" : command.Command.Name);
            }
        }

        names.Reverse();
        return string.Join(' ', names);
    }

    private static string Describe(string type)
    {
        var inner = NullableOf().Match(type) is { Success: true } m ? m.Groups["inner"].Value : type;
        return inner switch
        {
            "System.Int64" or "System.Int32" or "System.Int16" or "System.Byte" or "System.SByte" => "a whole number",
            "System.UInt64" or "System.UInt32" or "System.UInt16" => "a whole number ≥ 0",
            "System.Double" or "System.Single" or "System.Decimal" => "a number",
            "System.Boolean" => "true or false",
            "System.String" => "text",
            "System.TimeSpan" => "a duration",
            _ => "a value of another form",
        };
    }

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for (?<kind>option|argument|command) '(?<name>[^']*)' as expected type '(?<type>[^']*)'\.?$", RegexOptions.Singleline)]
    private static partial Regex CannotParse();

    [GeneratedRegex(@"expected type '(?<type>[^']*)'")]
    private static partial Regex TypeName();

    [GeneratedRegex(@"^System\.Nullable`1\[(?<inner>[^\]]+)\]$")]
    private static partial Regex NullableOf();
}
