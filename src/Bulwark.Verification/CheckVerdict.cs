namespace Bulwark.Verification;

public enum CheckVerdict
{
    /// <summary>Every partition has a linearization.</summary>
    Linearizable = 0,

    /// <summary>Some partition has none; <see cref="CheckResult{TInput, TOutput}.Violation"/> says which.</summary>
    Illegal = 1,

    /// <summary>The budget ran out before a verdict; no partition was found illegal so far.</summary>
    Unknown = 2,
}
