using Bulwark.Server.Hosting;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>serve's hidden test-only corruption option: taken out of the arguments, off unless given, malformed refused.</summary>
public sealed class TestOnlyCorruptionTests
{
    [Fact]
    public void The_option_is_taken_out_and_names_member_and_key()
    {
        var (rest, member, key) = TestOnlyCorruption.Extract(["--name", "n3", "--test-only-corrupt-key", "n3=a/b=c", "--data-dir", "d"]);
        Assert.Equal(["--name", "n3", "--data-dir", "d"], rest);
        Assert.Equal("n3", member);
        Assert.Equal("a/b=c", key);
        Assert.Equal(("n1", "k"), Pair(TestOnlyCorruption.Extract(["--test-only-corrupt-key=n1=k"])));
    }

    [Fact]
    public void Without_the_option_nothing_is_corrupted()
    {
        var (rest, member, key) = TestOnlyCorruption.Extract(["--name", "n1"]);
        Assert.Equal(["--name", "n1"], rest);
        Assert.Null(member);
        Assert.Null(key);
    }

    [Theory]
    [InlineData("n3")]
    [InlineData("=k")]
    [InlineData("n3=")]
    public void A_malformed_value_is_refused(string value) =>
        Assert.Throws<ArgumentException>(() => TestOnlyCorruption.Extract(["--test-only-corrupt-key", value]));

    [Fact]
    public void A_missing_value_is_refused() => Assert.Throws<ArgumentException>(() => TestOnlyCorruption.Extract(["--test-only-corrupt-key"]));

    private static (string?, string?) Pair((IReadOnlyList<string>, string? Member, string? Key) extracted) => (extracted.Member, extracted.Key);
}
