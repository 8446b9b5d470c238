using System.Net;
using Bulwark.Server.Configuration;
using Bulwark.Server.Transport;

namespace Bulwark.Server.Tests.Transport;

/// <summary>
/// The one endpoint parser and what each of its callers accepts and refuses (peer addresses, listen URLs, URL
/// settings); the CLI's `--endpoints` has its own syntax (bare ports) and its tests in Bulwark.Cli.Tests.
/// </summary>
public sealed class EndpointSyntaxTests
{
    [Theory]
    [InlineData("127.0.0.1:2380", "tcp", "tcp", "127.0.0.1", 2380)]
    [InlineData("[::1]:2380", "tcp", "tcp", "::1", 2380)]
    [InlineData("http://node-1.local:12380", "tcp", "http", "node-1.local", 12380)]
    [InlineData("http://node-1.local:12380/", null, "http", "node-1.local", 12380)]
    [InlineData("node-1:7", "http", "http", "node-1", 7)]
    public void Parses_host_and_port(string text, string? defaultScheme, string scheme, string host, int port)
    {
        var uri = EndpointSyntax.TryParse(text, defaultScheme);
        Assert.NotNull(uri);
        Assert.Equal(scheme, uri.Scheme);
        Assert.Equal(host, EndpointSyntax.HostOf(uri));
        Assert.Equal(port, uri.Port);
    }

    [Theory]
    [InlineData("127.0.0.1:2380")] // without a default scheme a bare host:port is not a URL
    [InlineData("localhost:2380")] // (Uri reads "localhost" as the scheme, with no host)
    [InlineData("not a url")]
    [InlineData("")]
    public void Without_a_default_scheme_only_urls_parse(string text) => Assert.Null(EndpointSyntax.TryParse(text, defaultScheme: null));

    [Theory]
    [InlineData("http://h:2380", true)]
    [InlineData("http://h:80", true)]
    [InlineData("http://h", false)]
    [InlineData("http://h/", false)]
    [InlineData("http://h:", false)]
    [InlineData("http://[::1]", false)]
    [InlineData("http://[::1]:2380", true)]
    public void Tells_a_written_port_from_the_schemes_default(string text, bool explicitPort) =>
        Assert.Equal(explicitPort, EndpointSyntax.HasExplicitPort(EndpointSyntax.TryParse(text, defaultScheme: null)!));

    [Fact]
    public void Listens_on_loopback_for_localhost_on_an_ip_itself_and_on_all_interfaces_for_a_name()
    {
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 1), EndpointSyntax.ListenEndpoint("LocalHost", 1));
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 2), EndpointSyntax.ListenEndpoint("::1", 2));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.0.5"), 3), EndpointSyntax.ListenEndpoint("10.0.0.5", 3));
        Assert.Equal(new IPEndPoint(IPAddress.Any, 4), EndpointSyntax.ListenEndpoint("node-1.local", 4));
    }

    [Theory]
    [InlineData("node-1")] // no port
    [InlineData("http://node-1")] // the scheme's default port is not a written one
    [InlineData("http://node-1:80")] // nor is the default written out (a peer address names a non-default port)
    [InlineData("tcp://:5")]
    public void Peer_addresses_need_a_host_and_a_non_default_port(string text) =>
        Assert.Equal(
            $"peer address '{text}' is not host:port (or a URL with an explicit port)",
            Assert.Throws<FormatException>(() => PeerAddress.Parse(text)).Message);

    [Fact]
    public void Listen_urls_are_http_with_a_port()
    {
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 2379), ServerHost.EndpointOf("http://localhost:2379"));
        Assert.Equal(new IPEndPoint(IPAddress.Any, 2379), ServerHost.EndpointOf("node-1:2379"));
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 2379), ServerHost.EndpointOf("http://[::1]:2379"));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 2379), ServerHost.EndpointOf("https://127.0.0.1:2379"));
        Assert.Equal("client URL 'ftp://h:1' uses ftp; only http (h2c) and https are supported", Assert.Throws<FormatException>(() => ServerHost.EndpointOf("ftp://h:1")).Message);
        Assert.Equal("client URL 'unix:///tmp/s' is not http://host:port", Assert.Throws<FormatException>(() => ServerHost.EndpointOf("unix:///tmp/s")).Message);
    }

    [Theory]
    [InlineData("127.0.0.1:2380", "is not a URL like http://127.0.0.1:2380")]
    [InlineData("ftp://h:2380", "uses scheme 'ftp'; only http and https are supported")]
    [InlineData("http://h", "needs an explicit port (e.g. http://h:2380)")]
    [InlineData("http://[::1]", "needs an explicit port (e.g. http://[::1]:2380)")]
    [InlineData("http://h:2380/x", "must not have a path or query")]
    public void Url_settings_keep_their_messages(string text, string message) =>
        Assert.EndsWith($"peer URL '{text}' {message}", Assert.Throws<ConfigurationException>(() => UrlSetting.Parse("listen-peer-urls", text, "peer URL")).Message, StringComparison.Ordinal);

    [Fact]
    public void Url_settings_normalize_to_scheme_and_authority() =>
        Assert.Equal("http://127.0.0.1:2380", UrlSetting.Parse("listen-peer-urls", "http://127.0.0.1:2380/", "peer URL"));
}
