namespace Bulwark.Verification;

/// <summary>Counts search steps over all partitions and says when the budget is spent.</summary>
internal sealed class BudgetMeter(CheckBudget budget)
{
    private const int ClockCheckInterval = 1024;
    private readonly long startedAt = budget.TimeProvider.GetTimestamp();

    public long Steps { get; private set; }

    /// <summary>Counts one step; false once the step or time limit is exceeded.</summary>
    public bool TryStep()
    {
        Steps++;
        if (Steps > budget.MaxSteps)
        {
            return false;
        }

        if (budget.MaxTime is { } maxTime && Steps % ClockCheckInterval == 0)
        {
            return budget.TimeProvider.GetElapsedTime(startedAt) <= maxTime;
        }

        return true;
    }
}
