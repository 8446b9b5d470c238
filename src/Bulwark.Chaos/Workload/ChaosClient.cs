using Bulwark.Api.Etcdserverpb;
using Bulwark.Client;
using Bulwark.Verification;
using Google.Protobuf;
using Grpc.Core;

namespace Bulwark.Chaos.Workload;

/// <summary>
/// One closed-loop client: puts, linearizable and serializable gets, compare-and-set Txns and two-key Txns on a small
/// key set, each recorded in the shared history before it is sent and completed after it answers. A write that
/// fails is recorded as unknown (it may have been committed) unless the failure proves it was never sent; a read that
/// fails is dropped (it changed nothing). It
/// talks to one member at a time and moves to the next after any failure, as etcd's clients do.
/// </summary>
internal sealed class ChaosClient(int id, IReadOnlyList<KV.KVClient> members, WorkloadSettings settings, WorkloadLog log)
{
    private readonly Random random = new(HashCode.Combine(settings.Seed, id));
    private readonly IReadOnlyList<string> keys = settings.KeyNames;
    private readonly Dictionary<string, string?> lastSeen = [];
    private int member = id % members.Count;
    private long sequence;

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var dice = random.Next(100);
            var keyIndex = random.Next(keys.Count);
            var key = keys[keyIndex];
            if (dice < 30)
            {
                await PutAsync(key).ConfigureAwait(false);
            }
            else if (dice < 60)
            {
                await GetAsync(key).ConfigureAwait(false);
            }
            else if (dice < 70)
            {
                await SerializableGetAsync(key).ConfigureAwait(false);
            }
            else if (dice < 90)
            {
                await CompareAndSetAsync(key).ConfigureAwait(false);
            }
            else
            {
                var other = keys[(keyIndex + 1 + random.Next(keys.Count - 1)) % keys.Count];
                await TwoKeyTxnAsync(key, other).ConfigureAwait(false);
            }
        }
    }

    private string NextValue() => $"c{id}-{++sequence}";

    private DateTime Deadline => DateTime.UtcNow + settings.OpTimeout;

    private async Task PutAsync(string key)
    {
        var value = NextValue();
        var start = log.Now;
        var op = log.Recorder.Invoke(id, KvInput.Put(key, value));
        try
        {
            var response = await members[member].PutAsync(new PutRequest { Key = Bytes(key), Value = Bytes(value) }, deadline: Deadline).ConfigureAwait(false);
            log.Recorder.Complete(op, KvOutput.Written);
            log.Acknowledged(key, value, response.Header.Revision);
            lastSeen[key] = value;
            log.Add(new OpEvent(id, "put", member, start, log.Now, OpOutcome.Ok, null, null, [op]));
        }
        catch (RpcException e)
        {
            WriteFailed("put", start, e, [op]);
        }
    }

    private async Task GetAsync(string key)
    {
        var start = log.Now;
        var op = log.Recorder.Invoke(id, KvInput.Get(key));
        try
        {
            var response = await members[member].RangeAsync(new RangeRequest { Key = Bytes(key) }, deadline: Deadline).ConfigureAwait(false);
            var value = ValueOf(response);
            log.Recorder.Complete(op, KvOutput.Read(value));
            lastSeen[key] = value;
            log.Add(new OpEvent(id, "get", member, start, log.Now, OpOutcome.Ok, null, null, [op]));
        }
        catch (RpcException e)
        {
            log.Recorder.Discard(op);
            Failed("get", start, OpOutcome.Failed, e, []);
        }
    }

    private async Task SerializableGetAsync(string key)
    {
        var start = log.Now;
        var asked = member;
        try
        {
            var response = await members[asked].RangeAsync(new RangeRequest { Key = Bytes(key), Serializable = true }, deadline: Deadline).ConfigureAwait(false);
            log.AddSerializable(new SerializableRead(id, asked, key, ValueOf(response), start, log.Now));
        }
        catch (RpcException e)
        {
            Failed("get-serializable", start, OpOutcome.Failed, e, []);
        }
    }

    private async Task CompareAndSetAsync(string key)
    {
        lastSeen.TryGetValue(key, out var expected);
        var value = NextValue();
        var compare = expected is null
            ? new Compare { Key = Bytes(key), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 }
            : new Compare { Key = Bytes(key), Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = Bytes(expected) };
        var request = new TxnRequest { Compare = { compare }, Success = { Put(key, value) } };
        var start = log.Now;
        var op = log.Recorder.Invoke(id, KvInput.CompareAndSet(key, expected, value));
        try
        {
            var response = await members[member].TxnAsync(request, deadline: Deadline).ConfigureAwait(false);
            log.Recorder.Complete(op, KvOutput.Swapped(response.Succeeded));
            if (response.Succeeded)
            {
                lastSeen[key] = value;
                log.Acknowledged(key, value, response.Header.Revision);
            }
            else
            {
                lastSeen.Remove(key); // learn the current value with the next get
            }

            log.Add(new OpEvent(id, "cas", member, start, log.Now, OpOutcome.Ok, null, null, [op]));
        }
        catch (RpcException e)
        {
            WriteFailed("cas", start, e, [op]);
        }
    }

    /// <summary>Two puts in one Txn. Checked per key (the checker partitions by key), so atomicity across the two keys is
    /// not checked; each key's history still has to be linearizable.</summary>
    private async Task TwoKeyTxnAsync(string first, string second)
    {
        var (a, b) = (NextValue(), NextValue());
        var request = new TxnRequest { Success = { Put(first, a), Put(second, b) } };
        var start = log.Now;
        var opA = log.Recorder.Invoke(id, KvInput.Put(first, a));
        var opB = log.Recorder.Invoke(id, KvInput.Put(second, b));
        try
        {
            var response = await members[member].TxnAsync(request, deadline: Deadline).ConfigureAwait(false);
            log.Recorder.Complete(opA, KvOutput.Written);
            log.Recorder.Complete(opB, KvOutput.Written);
            log.Acknowledged(first, a, response.Header.Revision);
            log.Acknowledged(second, b, response.Header.Revision);
            lastSeen[first] = a;
            lastSeen[second] = b;
            log.Add(new OpEvent(id, "txn", member, start, log.Now, OpOutcome.Ok, null, null, [opA, opB]));
        }
        catch (RpcException e)
        {
            WriteFailed("txn", start, e, [opA, opB]);
        }
    }

    /// <summary>
    /// A write that failed: dropped like a failed read when the failure proves it never took effect (the connection
    /// could not be made, or a Bulwark member said it refused it before proposing), otherwise recorded with unknown outcome. Unknown writes
    /// are what makes a history expensive to check, and a killed member's clients would otherwise add one per attempt.
    /// </summary>
    private void WriteFailed(string kind, double start, RpcException e, IReadOnlyList<long> ops)
    {
        var neverSent = CallFailures.ProvesNotApplied(e);
        foreach (var op in ops)
        {
            if (neverSent)
            {
                log.Recorder.Discard(op);
            }
            else
            {
                log.Recorder.GiveUp(op);
            }
        }

        Failed(kind, start, neverSent ? OpOutcome.Failed : OpOutcome.Unknown, e, neverSent ? [] : ops);
    }

    private void Failed(string kind, double start, OpOutcome outcome, RpcException e, IReadOnlyList<long> ops)
    {
        log.Add(new OpEvent(id, kind, member, start, log.Now, outcome, e.StatusCode.ToString(), e.Status.Detail, ops));
        member = (member + 1) % members.Count;
    }

    private static RequestOp Put(string key, string value) => new() { RequestPut = new PutRequest { Key = Bytes(key), Value = Bytes(value) } };

    private static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);

    private static string? ValueOf(RangeResponse response) => response.Kvs.Count == 0 ? null : response.Kvs[0].Value.ToStringUtf8();
}
