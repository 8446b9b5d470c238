using System.CommandLine;
using System.CommandLine.Parsing;

namespace Bulwark.Cli.Client;

/// <summary>
/// System.CommandLine takes a word it does not know as an option (`put k --prev-key`) for a positional argument, so a
/// mistyped flag would silently become a key, a value or a range end. As in etcdctl, a key or value that starts with
/// '-' must follow `--` (`bulwark put -- -k -v`); without it such a word is refused as an unknown option.
/// </summary>
public static class PositionalArguments
{
    public static string? Checked(ParseResult parse, string? value, string argument)
    {
        ArgumentNullException.ThrowIfNull(parse);
        if (value is { Length: > 1 } && value[0] == '-' && !parse.Tokens.Any(t => t.Type == TokenType.DoubleDash))
        {
            throw new ClientInputException(argument, $"'{value}' is not an option of {parse.CommandResult.Command.Name}; a {argument.Replace('_', ' ')} that starts with '-' goes after --, e.g. {parse.CommandResult.Command.Name} -- {value}");
        }

        return value;
    }
}
