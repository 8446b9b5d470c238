using Bulwark.Client.Hosting;

namespace Bulwark.Client.Tests.Unit;

/// <summary>Settings that cannot work are refused with a message naming the setting, before anything runs.</summary>
public sealed class LeaderElectionOptionsTests
{
    private static LeaderElectionOptions Valid() => new() { ElectionName = "jobs/scheduler", InstanceValue = "http://10.0.0.1:8080" };

    [Fact]
    public void Valid_options_pass() => Valid().Validate();

    public static TheoryData<string, Action<LeaderElectionOptions>> Broken() => new()
    {
        { "ElectionName", o => o.ElectionName = "" },
        { "ElectionName", o => o.ElectionName = "   " },
        { "InstanceValue", o => o.InstanceValue = null! },
        { "SessionTtl", o => o.SessionTtl = TimeSpan.FromMilliseconds(500) },
        { "RetryDelay", o => o.RetryDelay = TimeSpan.FromSeconds(-1) },
        { "ResignTimeout", o => o.ResignTimeout = TimeSpan.Zero },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void Each_unworkable_setting_is_refused_by_name(string setting, Action<LeaderElectionOptions> breakIt)
    {
        var options = Valid();
        breakIt(options);
        var e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains($"LeaderElectionOptions.{setting}", e.Message, StringComparison.Ordinal);
    }
}
