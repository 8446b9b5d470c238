using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Bulwark.TestSupport;

namespace Bulwark.Client.Tests.Processes;

/// <summary>The client's counters on the Meter "Bulwark.Client" move with what it does (checked against etcd).</summary>
[Collection(ClientProcessCollection.Name)]
public sealed class MetricsTests(Backends backends)
{
    [Fact]
    public async Task Calls_and_lost_sessions_are_counted()
    {
        var totals = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Bulwark.Client")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var tag = tags.Length > 0 ? $"{tags[0].Key}={tags[0].Value}" : "";
            totals.AddOrUpdate($"{instrument.Name}/{tag}", value, (_, v) => v + value);
        });
        listener.Start();

        var target = new Target(backends, Server.Etcd);
        await using var client = target.Client();
        await client.PutAsync(Target.Unique("metrics"), "v");
        await using var session = await client.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromSeconds(30) });
        await client.LeaseRevokeAsync(session.LeaseId);
        await Eventually.TrueAsync(() => session.IsLost, "the session to notice its revoked lease", diagnostics: target.Logs);

        Assert.True(totals.GetValueOrDefault("bulwark.client.calls/method=Put") >= 1, string.Join(", ", totals));
        Assert.True(totals.GetValueOrDefault("bulwark.client.calls/method=LeaseGrant") >= 1, string.Join(", ", totals));
        Assert.True(totals.Where(t => t.Key.StartsWith("bulwark.client.sessions_lost/", StringComparison.Ordinal)).Sum(t => t.Value) >= 1, string.Join(", ", totals));
    }
}
