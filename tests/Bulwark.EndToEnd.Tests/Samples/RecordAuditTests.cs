namespace Bulwark.EndToEnd.Tests.Samples;

/// <summary>The audit the MasterBackup process tests rely on catches each violation it is there for.</summary>
public sealed class RecordAuditTests
{
    private static readonly Dictionary<long, string> Holders = new() { [10] = "w1", [20] = "w2" };

    [Fact]
    public void A_clean_run_with_a_takeover_passes()
    {
        var records = new[] { R(1, "w1", 10), R(2, "w1", 10), R(3, "w2", 20), R(4, "w2", 20) };
        Assert.Empty(RecordAudit.Violations(records, Holders));
    }

    [Fact]
    public void A_gap_is_caught()
    {
        var records = new[] { R(1, "w1", 10), R(3, "w2", 20) };
        Assert.Contains(RecordAudit.Violations(records, Holders), v => v.Contains("gap: record 2", StringComparison.Ordinal));
    }

    [Fact]
    public void A_number_written_twice_is_caught()
    {
        var records = new[] { R(1, "w1", 10), R(2, "w1", 10) with { N = 1 } };
        Assert.Contains(RecordAudit.Violations(records, Holders), v => v.Contains("holds number 1", StringComparison.Ordinal));
    }

    [Fact]
    public void A_stale_master_writing_after_the_takeover_is_caught()
    {
        var records = new[] { R(1, "w1", 10), R(2, "w2", 20), R(3, "w1", 10) };
        Assert.Contains(RecordAudit.Violations(records, Holders), v => v.Contains("token went back", StringComparison.Ordinal));
    }

    [Fact]
    public void A_record_under_someone_elses_token_is_caught()
    {
        var records = new[] { R(1, "w1", 10), R(2, "w3", 20) };
        Assert.Contains(RecordAudit.Violations(records, Holders), v => v.Contains("held by w2", StringComparison.Ordinal));
    }

    [Fact]
    public void A_token_nobody_won_is_caught()
    {
        var records = new[] { R(1, "w1", 15) };
        Assert.Contains(RecordAudit.Violations(records, Holders), v => v.Contains("no worker logged winning", StringComparison.Ordinal));
    }

    [Fact]
    public void Parses_the_workers_format()
    {
        var record = RecordAudit.Parse("records/", "records/0000000042", """{"n":42,"instance":"w2","token":77}""");
        Assert.Equal(new StoredRecord(42, 42, "w2", 77), record);
    }

    private static StoredRecord R(long n, string instance, long token) => new(n, n, instance, token);
}
