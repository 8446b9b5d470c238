namespace Bulwark.Availability;

/// <summary>
/// Input to an availability model or estimator is invalid. <see cref="ArgumentException.ParamName"/> names the
/// offending field so a command line or API caller can point the user at it.
/// </summary>
public class AvailabilityInputException : ArgumentException
{
    public AvailabilityInputException(string field, string message)
        : base(message, field)
    {
        Field = field;
    }

    /// <summary>The field, option or matrix entry that is wrong, e.g. "repairRate" or "matrix[2,1]".</summary>
    public string Field { get; }

    /// <summary>The message without the " (Parameter ...)" suffix that <see cref="ArgumentException"/> appends.</summary>
    public string Reason => base.Message.Replace($" (Parameter '{Field}')", "", StringComparison.Ordinal);
}
