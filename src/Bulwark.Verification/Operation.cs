namespace Bulwark.Verification;

/// <summary>
/// One client call in a history. <see cref="Call"/> and <see cref="Return"/> are points on one clock shared by
/// every client (any monotonic counter or timestamp; only their order matters). A call whose outcome is
/// unknown (it timed out, or its node crashed) has <see cref="Output"/> null and <see cref="Return"/> =
/// <see cref="long.MaxValue"/>: it may take effect at any point after its invocation, or never.
/// </summary>
public sealed record Operation<TInput, TOutput>(long Id, int ClientId, TInput Input, TOutput? Output, long Call, long Return)
    where TOutput : class
{
    /// <summary>The return time given to calls whose outcome is unknown.</summary>
    public const long Never = long.MaxValue;

    public bool IsUnknown => Output is null;

    public static Operation<TInput, TOutput> Completed(long id, int clientId, TInput input, TOutput output, long call, long @return)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (@return < call)
        {
            throw new ArgumentException($"operation {id} returns at {@return}, before its call at {call}", nameof(@return));
        }

        return new(id, clientId, input, output, call, @return);
    }

    public static Operation<TInput, TOutput> Unknown(long id, int clientId, TInput input, long call) =>
        new(id, clientId, input, null, call, Never);

    public override string ToString() =>
        $"#{Id} c{ClientId} {Input} -> {(IsUnknown ? "?" : Output!.ToString())} [{Call}, {(Return == Never ? "inf" : Return.ToString(System.Globalization.CultureInfo.InvariantCulture))}]";
}
