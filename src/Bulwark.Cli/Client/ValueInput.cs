using Google.Protobuf;

namespace Bulwark.Cli.Client;

/// <summary>
/// Where `bulwark put` takes its value from: the argument; <c>--value-file PATH</c>; or, with neither, everything on
/// stdin, byte for byte (as etcdctl put does; `echo v | bulwark put k` stores "v\n"). Files and stdin are read as bytes,
/// so a value is not limited by the command-line length nor by UTF-8; with <c>--hex</c> they hold hex text instead.
/// </summary>
public static class ValueInput
{
    public static ByteString Read(string? argument, string? file, bool hex, Func<Stream> standardInput, bool standardInputIsTerminal)
    {
        ArgumentNullException.ThrowIfNull(standardInput);
        if (argument is not null && file is not null)
        {
            throw new ClientInputException("value-file", "the value is given both as an argument and with --value-file; give one");
        }

        if (argument is not null)
        {
            return KvBytes.FromArgument(argument, hex, "value");
        }

        byte[] bytes;
        if (file is not null)
        {
            try
            {
                bytes = File.ReadAllBytes(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new ClientInputException("value-file", $"cannot read '{file}': {e.Message}");
            }
        }
        else
        {
            if (standardInputIsTerminal)
            {
                throw new ClientInputException("value", "no value: give it as an argument, with --value-file PATH, or on stdin (e.g. bulwark put KEY < file)");
            }

            using var stdin = standardInput();
            using var buffer = new MemoryStream();
            stdin.CopyTo(buffer);
            bytes = buffer.ToArray();
            if (bytes.Length == 0)
            {
                throw new ClientInputException("value", "no value: stdin was empty and no value argument or --value-file was given (an empty value is put KEY \"\")");
            }
        }

        return hex ? ByteString.CopyFrom(KvBytes.ParseHex(System.Text.Encoding.UTF8.GetString(bytes), "value")) : ByteString.CopyFrom(bytes);
    }
}
