using System.Text;

namespace Bulwark.Cli.Client;

/// <summary>
/// Writes keys and values to the command's output as the bytes they are. Text is a lossy path for bytes that are not
/// UTF-8, so when the output is the process's stdout the bytes go to the stdout stream itself (as etcdctl writes them),
/// and when it is a <see cref="StreamWriter"/> (a test capturing bytes) to its stream. Any other writer (a test's
/// StringWriter) can only hold text, and gets the bytes decoded as UTF-8.
/// </summary>
public sealed class ByteOutput
{
    private static readonly Lazy<Stream> StandardOutput = new(Console.OpenStandardOutput);
    private readonly Stream? stream;

    public ByteOutput(TextWriter text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Text = text;
        if (ReferenceEquals(text, Console.Out))
        {
            stream = StandardOutput.Value;
        }
        else if (text is StreamWriter writer)
        {
            stream = writer.BaseStream;
        }
    }

    public TextWriter Text { get; }

    /// <summary>Writes <paramref name="bytes"/> then a newline.</summary>
    public void WriteLine(ReadOnlySpan<byte> bytes)
    {
        if (stream is null)
        {
            Text.WriteLine(Encoding.UTF8.GetString(bytes));
            return;
        }

        Text.Flush();
        stream.Write(bytes);
        stream.Write("\n"u8);
        stream.Flush();
    }

    public void WriteLine(string line) => Text.WriteLine(line);

    public void Flush() => Text.Flush();
}
