using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Bulwark.Server.Observability;

/// <summary>
/// The node's event journal: JSON lines appended to &lt;data-dir&gt;/journal/events.jsonl, flushed per record, rotated
/// when the file passes <c>maxBytes</c> (events.jsonl.1 is the newest rotated file; at most <c>keepFiles</c> are kept).
/// Every file starts with what <c>header</c> returns (an observation_start and the peers down at that moment), so each
/// one can be fed on its own to `bulwark availability estimate --log`. The newest records are also kept in memory for
/// the status page. Thread-safe; a write that fails (disk full) is counted, not thrown: the journal must never stop a node.
/// </summary>
public sealed class EventJournal : IDisposable
{
    public const string FileName = "events.jsonl";

    private readonly object gate = new();
    private readonly string directory;
    private readonly long maxBytes;
    private readonly int keepFiles;
    private readonly Func<DateTimeOffset, IReadOnlyList<JournalEvent>> header;
    private readonly LinkedList<JournalEvent> recent = new();
    private readonly int recentCapacity;
    private FileStream? stream;
    private long writeFailures;

    public EventJournal(string directory, long maxBytes, int keepFiles, int recentCapacity, Func<DateTimeOffset, IReadOnlyList<JournalEvent>> header)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(header);
        if (maxBytes < 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(maxBytes), maxBytes, "journal rotation size must be at least 1024 bytes");
        }

        if (keepFiles < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(keepFiles), keepFiles, "must keep at least one rotated journal file");
        }

        this.directory = directory;
        this.maxBytes = maxBytes;
        this.keepFiles = keepFiles;
        this.recentCapacity = Math.Max(1, recentCapacity);
        this.header = header;
    }

    public string CurrentPath => Path.Combine(directory, FileName);

    public long WriteFailures => Interlocked.Read(ref writeFailures);

    /// <summary>The newest events, oldest first.</summary>
    public IReadOnlyList<JournalEvent> Recent()
    {
        lock (gate)
        {
            return [.. recent];
        }
    }

    public void Write(JournalEvent record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (gate)
        {
            recent.AddLast(record);
            while (recent.Count > recentCapacity)
            {
                recent.RemoveFirst();
            }

            try
            {
                if (stream is null)
                {
                    Open(record.Timestamp);
                }
                else if (stream.Length >= maxBytes)
                {
                    Rotate(record.Timestamp);
                }

                Append(record);
                stream!.Flush();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Interlocked.Increment(ref writeFailures);
                stream?.Dispose();
                stream = null;
            }
        }
    }

    /// <summary>One record as its JSON line (no newline).</summary>
    public static string Serialize(JournalEvent record)
    {
        ArgumentNullException.ThrowIfNull(record);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("ts", record.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            json.WriteString("event", record.Kind);
            if (record.Node is not null)
            {
                json.WriteString("node", record.Node);
            }

            if (record.Reason is not null)
            {
                json.WriteString("reason", record.Reason);
            }

            foreach (var (key, value) in record.Fields ?? new Dictionary<string, object>())
            {
                json.WritePropertyName(key);
                switch (value)
                {
                    case ulong u:
                        json.WriteNumberValue(u);
                        break;
                    case long l:
                        json.WriteNumberValue(l);
                        break;
                    case int i:
                        json.WriteNumberValue(i);
                        break;
                    case double d when double.IsFinite(d):
                        json.WriteNumberValue(Math.Round(d, 3));
                        break;
                    case bool b:
                        json.WriteBooleanValue(b);
                        break;
                    case IEnumerable<string> list:
                        json.WriteStartArray();
                        foreach (var item in list)
                        {
                            json.WriteStringValue(item);
                        }

                        json.WriteEndArray();
                        break;
                    default:
                        json.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                        break;
                }
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private void Open(DateTimeOffset now)
    {
        Directory.CreateDirectory(directory);
        stream = new FileStream(CurrentPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length == 0)
        {
            WriteHeader(now);
        }
    }

    private void Rotate(DateTimeOffset now)
    {
        stream!.Dispose();
        stream = null;
        var oldest = Path.Combine(directory, $"{FileName}.{keepFiles}");
        if (File.Exists(oldest))
        {
            File.Delete(oldest);
        }

        for (var i = keepFiles - 1; i >= 1; i--)
        {
            var from = Path.Combine(directory, $"{FileName}.{i}");
            if (File.Exists(from))
            {
                File.Move(from, Path.Combine(directory, $"{FileName}.{i + 1}"));
            }
        }

        File.Move(CurrentPath, Path.Combine(directory, $"{FileName}.1"));
        Open(now);
    }

    private void WriteHeader(DateTimeOffset now)
    {
        foreach (var record in header(now))
        {
            Append(record);
        }
    }

    private void Append(JournalEvent record)
    {
        var line = Encoding.UTF8.GetBytes(Serialize(record) + "\n");
        stream!.Write(line);
    }

    public void Dispose()
    {
        lock (gate)
        {
            stream?.Dispose();
            stream = null;
        }
    }
}
