using Bulwark.Api.Etcdserverpb;
using Bulwark.Client.Calls;
using Google.Protobuf;

namespace Bulwark.Client;

public sealed partial class BulwarkClient
{
    /// <summary>Reads <paramref name="key"/> (linearizable: from the leader's current state). Retried on another member after a failure.</summary>
    /// <exception cref="ArgumentException">The key is empty.</exception>
    public Task<RangeResponse> GetAsync(string key, CancellationToken ct = default)
    {
        RequireKey(key, nameof(key));
        return RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) }, ct);
    }

    /// <summary>Reads a key or range as <paramref name="request"/> says; serializable reads may go to any member. Retried after a failure.</summary>
    /// <exception cref="ArgumentException">The request has no key.</exception>
    public Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequireKey(request.Key, nameof(request));
        return calls.RunAsync(
            "Range",
            request.Serializable ? CallRoute.Any : CallRoute.Leader,
            CallRetry.Always,
            (channel, options) => new KV.KVClient(channel).RangeAsync(request, options).ResponseAsync,
            ct);
    }

    /// <summary>
    /// Writes <paramref name="value"/> (UTF-8) at <paramref name="key"/>, attached to <paramref name="leaseId"/> when not 0.
    /// Sent again only when the failure proves it never left (connection refused): a Put is not idempotent.
    /// </summary>
    /// <exception cref="ArgumentException">The key is empty.</exception>
    public Task<PutResponse> PutAsync(string key, string value, long leaseId = 0, CancellationToken ct = default)
    {
        RequireKey(key, nameof(key));
        ArgumentNullException.ThrowIfNull(value);
        return PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value), Lease = leaseId }, ct);
    }

    /// <summary>Writes as <paramref name="request"/> says. Sent again only when the failure proves it never left.</summary>
    /// <exception cref="ArgumentException">The request has no key.</exception>
    public Task<PutResponse> PutAsync(PutRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequireKey(request.Key, nameof(request));
        return calls.RunAsync(
            "Put",
            CallRoute.Leader,
            CallRetry.WhenNotApplied,
            (channel, options) => new KV.KVClient(channel).PutAsync(request, options).ResponseAsync,
            ct);
    }

    /// <summary>Deletes <paramref name="key"/>. Sent again only when the failure proves it never left.</summary>
    /// <exception cref="ArgumentException">The key is empty.</exception>
    public Task<DeleteRangeResponse> DeleteAsync(string key, CancellationToken ct = default)
    {
        RequireKey(key, nameof(key));
        return DeleteRangeAsync(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) }, ct);
    }

    /// <summary>Deletes a key or range as <paramref name="request"/> says. Sent again only when the failure proves it never left.</summary>
    /// <exception cref="ArgumentException">The request has no key.</exception>
    public Task<DeleteRangeResponse> DeleteRangeAsync(DeleteRangeRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequireKey(request.Key, nameof(request));
        return calls.RunAsync(
            "DeleteRange",
            CallRoute.Leader,
            CallRetry.WhenNotApplied,
            (channel, options) => new KV.KVClient(channel).DeleteRangeAsync(request, options).ResponseAsync,
            ct);
    }

    /// <summary>
    /// Runs a transaction. A read-only one (only Range operations) is retried like a read; one that writes is sent
    /// again only when the failure proves it never left, because the client cannot know whether its compares would
    /// stop a second application (use the recipes' guarded writes for that).
    /// </summary>
    public Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return TxnAsync(request, IsReadOnly(request) ? CallRetry.Always : CallRetry.WhenNotApplied, ct);
    }

    /// <summary>A transaction with a retry rule the caller vouches for (the recipes' create-if-absent transactions).</summary>
    internal Task<TxnResponse> TxnAsync(TxnRequest request, CallRetry retry, CancellationToken ct) =>
        calls.RunAsync(
            "Txn",
            CallRoute.Leader,
            retry,
            (channel, options) => new KV.KVClient(channel).TxnAsync(request, options).ResponseAsync,
            ct);

    private static bool IsReadOnly(TxnRequest request) =>
        request.Success.Concat(request.Failure).All(op => op.RequestCase switch
        {
            RequestOp.RequestOneofCase.RequestRange => true,
            RequestOp.RequestOneofCase.RequestTxn => IsReadOnly(op.RequestTxn),
            _ => false,
        });
}
