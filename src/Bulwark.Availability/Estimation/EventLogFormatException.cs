namespace Bulwark.Availability.Estimation;

/// <summary>A line of an event log is malformed; the message starts with its line number and names the field.</summary>
public sealed class EventLogFormatException : AvailabilityInputException
{
    public EventLogFormatException(int line, string field, string message)
        : base(field, $"line {line}: {message}")
    {
        Line = line;
    }

    /// <summary>1-based line number in the log.</summary>
    public int Line { get; }
}
