using Bulwark.Server.Configuration;

namespace Bulwark.Server.Tests.Configuration;

/// <summary>--corrupt-check-time (etcd's --experimental-corrupt-check-time): a duration, off by default, bad values refused.</summary>
public sealed class CorruptCheckTimeSettingTests
{
    private static NodeOptions Load(string[] args, Dictionary<string, string>? env = null) =>
        NodeConfigurationLoader.Load(args, env ?? [], path => throw new FileNotFoundException($"no such file {path}"));

    [Fact]
    public void Off_by_default_as_in_etcd() => Assert.Equal(TimeSpan.Zero, Load([]).CorruptCheckTime);

    [Theory]
    [InlineData("--corrupt-check-time=5s", 5_000)]
    [InlineData("--corrupt-check-time=500ms", 500)]
    [InlineData("--corrupt-check-time=1m30s", 90_000)]
    [InlineData("--corrupt-check-time=1.5h", 5_400_000)]
    [InlineData("--corrupt-check-time=250", 250)]
    [InlineData("--corrupt-check-time=0", 0)]
    [InlineData("--experimental-corrupt-check-time=2m", 120_000)]
    public void Takes_go_durations_bare_milliseconds_and_etcds_name(string flag, long ms) =>
        Assert.Equal(TimeSpan.FromMilliseconds(ms), Load([flag]).CorruptCheckTime);

    [Fact]
    public void Also_from_the_environment() =>
        Assert.Equal(TimeSpan.FromSeconds(3), Load([], new() { ["BULWARK_CORRUPT_CHECK_TIME"] = "3s" }).CorruptCheckTime);

    [Theory]
    [InlineData("5 parsecs")]
    [InlineData("-5s")]
    [InlineData("5d")]
    [InlineData("s")]
    [InlineData("")]
    [InlineData("100000h")]
    public void A_value_that_is_not_a_duration_is_refused_naming_the_setting(string value)
    {
        var e = Assert.Throws<ConfigurationException>(() => Load(["--corrupt-check-time", value]));
        Assert.Contains("corrupt-check-time", e.Message, StringComparison.Ordinal);
    }
}
