namespace Bulwark.Client.Tests.Unit;

/// <summary>Bad input is refused with ArgumentException before anything is sent (no server needed: nothing listens).</summary>
public sealed class BadInputTests
{
    // A port nothing listens on: none of these calls may get as far as connecting.
    private const string Nowhere = "http://127.0.0.1:9";

    [Fact]
    public void Options_without_endpoints_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new BulwarkClient(new BulwarkClientOptions()));
        Assert.Contains("at least one endpoint", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new BulwarkClient(new BulwarkClientOptions { Endpoints = null! }));
        Assert.Throws<ArgumentException>(() => BulwarkClient.Connect());
        Assert.Throws<ArgumentException>(() => BulwarkClient.Connect(null!));
    }

    [Theory]
    [InlineData("")]
    [InlineData("ftp://127.0.0.1:2379")]
    [InlineData("not a url at all")]
    public void Malformed_endpoints_are_refused(string endpoint)
    {
        Assert.Throws<ArgumentException>(() => BulwarkClient.Connect(endpoint));
    }

    [Fact]
    public async Task Bare_host_and_port_means_http()
    {
        await using var client = BulwarkClient.Connect("127.0.0.1:2379");
        Assert.Equal(["http://127.0.0.1:2379/"], client.Endpoints);
    }

    [Fact]
    public void Non_positive_timeouts_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new BulwarkClient(new BulwarkClientOptions { Endpoints = [Nowhere], RequestTimeout = TimeSpan.Zero }));
        Assert.Throws<ArgumentException>(() => new BulwarkClient(new BulwarkClientOptions { Endpoints = [Nowhere], ConnectTimeout = TimeSpan.FromSeconds(-1) }));
        Assert.Throws<ArgumentException>(() => new BulwarkClient(new BulwarkClientOptions { Endpoints = [Nowhere], MaxAttempts = 0 }));
    }

    [Fact]
    public async Task Empty_keys_and_short_ttls_are_refused_before_any_call()
    {
        await using var client = BulwarkClient.Connect(Nowhere);
        await Assert.ThrowsAsync<ArgumentException>(() => client.GetAsync(""));
        await Assert.ThrowsAsync<ArgumentException>(() => client.PutAsync("", "v"));
        await Assert.ThrowsAsync<ArgumentException>(() => client.DeleteAsync(""));
        await Assert.ThrowsAsync<ArgumentException>(() => client.RangeAsync(new Api.Etcdserverpb.RangeRequest()));
        var ttl = await Assert.ThrowsAsync<ArgumentException>(() => client.LeaseGrantAsync(TimeSpan.FromMilliseconds(500)));
        Assert.Contains("at least 1 s", ttl.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => client.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromMilliseconds(999) }));
        await Assert.ThrowsAsync<ArgumentException>(() => client.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromSeconds(3), KeepAliveInterval = TimeSpan.FromSeconds(3) }));
        Assert.Throws<ArgumentException>(() => client.WatchAsync(""));
        Assert.Throws<ArgumentException>(() => client.WatchAsync("k", new WatchOptions(StartRevision: -1)));
        await Assert.ThrowsAsync<ArgumentException>(() => client.TryPutAsync(new FencingToken("", 5), "k", "v"));
        await Assert.ThrowsAsync<ArgumentException>(() => client.TryPutAsync(new FencingToken("lock/1", 5), "", "v"));
    }
}
