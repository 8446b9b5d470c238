using Bulwark.Cli.Supervision;

namespace Bulwark.Cli.Tests.Supervision;

/// <summary>How `cluster up` starts its members: JSON log lines by default (as `serve` alone), text on request.</summary>
public sealed class ServeChildrenTests
{
    [Fact]
    public void Members_log_json_lines_by_default_forwarded_as_they_are()
    {
        var children = ChildCommand.ServeChildren(ClusterLayout.Default("/data"));

        Assert.Equal(3, children.Count);
        Assert.All(children, c =>
        {
            Assert.Equal("json", c.Environment["BULWARK_LOG_FORMAT"]);
            Assert.False(c.PrefixStandardOutput);
        });
    }

    [Fact]
    public void Text_logs_on_request_are_prefixed_with_the_member_name()
    {
        var children = ChildCommand.ServeChildren(ClusterLayout.Default("/data"), textLogs: true);

        Assert.All(children, c =>
        {
            Assert.Equal("text", c.Environment["BULWARK_LOG_FORMAT"]);
            Assert.True(c.PrefixStandardOutput);
        });
    }
}
