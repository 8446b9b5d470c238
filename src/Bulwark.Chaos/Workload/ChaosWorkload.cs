using Bulwark.Api.Etcdserverpb;
using Bulwark.Chaos.Cluster;
using Bulwark.Verification;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Bulwark.Chaos.Workload;

/// <summary>
/// The clients of a run, each with its own connections to every member, recording into one <see cref="WorkloadLog"/>.
/// After the run, <see cref="FinalReadsAsync"/> reads every key once more (linearizably, retrying until a member
/// answers) into the history, so that a lost acknowledged write shows as a read the history cannot explain.
/// </summary>
public sealed class ChaosWorkload : IDisposable
{
    private readonly WorkloadSettings settings;
    private readonly List<GrpcChannel> channels = [];
    private readonly List<ChaosClient> clients = [];

    public ChaosWorkload(IReadOnlyList<string> endpoints, WorkloadSettings settings)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(settings);
        this.settings = settings;
        Endpoints = endpoints;
        for (var c = 0; c < settings.Clients; c++)
        {
            var own = endpoints.Select(ChannelFactory.Create).ToList();
            channels.AddRange(own);
            clients.Add(new ChaosClient(c, own.Select(ch => new KV.KVClient(ch)).ToList(), settings, Log));
        }
    }

    public IReadOnlyList<string> Endpoints { get; }

    public WorkloadLog Log { get; } = new();

    /// <summary>The highest revision a final read's header named: every acknowledged write is at or before it.</summary>
    public long FinalRevision { get; private set; }

    /// <summary>
    /// Deletes every key under the workload's prefix before anything is recorded, so the history starts from absent
    /// keys as the model does — also against a cluster (--endpoints) that an earlier run left its keys in.
    /// </summary>
    /// <returns>The revision of the clear: the workload's first write comes after it.</returns>
    public async Task<long> ClearAsync(TimeSpan patience, CancellationToken cancel)
    {
        using var channelsForClear = new ChannelSet(Endpoints);
        var deadline = DateTime.UtcNow + patience;
        var request = new DeleteRangeRequest
        {
            Key = ByteString.CopyFromUtf8(WorkloadSettings.KeyPrefix),
            RangeEnd = ByteString.CopyFromUtf8(WorkloadSettings.KeyPrefix[..^1] + (char)(WorkloadSettings.KeyPrefix[^1] + 1)),
        };
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var response = await new KV.KVClient(channelsForClear[attempt % Endpoints.Count]).DeleteRangeAsync(request, deadline: DateTime.UtcNow + settings.OpTimeout, cancellationToken: cancel).ConfigureAwait(false);
                return response.Header.Revision;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, cancel).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Runs every client until <paramref name="stop"/> is cancelled.</summary>
    public Task RunAsync(CancellationToken stop) =>
        Task.WhenAll(clients.Select(c => Task.Run(() => c.RunAsync(stop), CancellationToken.None)));

    /// <summary>One linearizable read of every key, recorded as client <c>Clients</c>; throws when no member answers within <paramref name="patience"/>.</summary>
    public async Task<IReadOnlyDictionary<string, string?>> FinalReadsAsync(TimeSpan patience, CancellationToken cancel)
    {
        using var channelsForReads = new ChannelSet(Endpoints);
        var finalClient = settings.Clients;
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var key in settings.KeyNames)
        {
            var deadline = DateTime.UtcNow + patience;
            for (var attempt = 0; ; attempt++)
            {
                var kv = new KV.KVClient(channelsForReads[attempt % Endpoints.Count]);
                var start = Log.Now;
                var op = Log.Recorder.Invoke(finalClient, KvInput.Get(key));
                try
                {
                    var response = await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) }, deadline: DateTime.UtcNow + settings.OpTimeout, cancellationToken: cancel).ConfigureAwait(false);
                    var value = response.Kvs.Count == 0 ? null : response.Kvs[0].Value.ToStringUtf8();
                    Log.Recorder.Complete(op, KvOutput.Read(value));
                    Log.Add(new OpEvent(finalClient, "final-get", attempt % Endpoints.Count, start, Log.Now, OpOutcome.Ok, null, null, [op]));
                    values[key] = value;
                    FinalRevision = Math.Max(FinalRevision, response.Header.Revision);
                    break;
                }
                catch (RpcException) when (DateTime.UtcNow < deadline)
                {
                    Log.Recorder.Discard(op);
                    await Task.Delay(100, cancel).ConfigureAwait(false);
                }
            }
        }

        return values;
    }

    public void Dispose()
    {
        foreach (var channel in channels)
        {
            channel.Dispose();
        }
    }

    private sealed class ChannelSet(IReadOnlyList<string> endpoints) : IDisposable
    {
        private readonly GrpcChannel[] channels = endpoints.Select(ChannelFactory.Create).ToArray();

        public GrpcChannel this[int i] => channels[i];

        public void Dispose()
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }
}
