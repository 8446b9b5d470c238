using System.Diagnostics;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Api.RaftCmd;
using Bulwark.Kv;
using Bulwark.Kv.Validation;
using Bulwark.Server.Api.Auth;
using Bulwark.Server.Hosting;
using Bulwark.Server.Observability;
using Grpc.Core;

namespace Bulwark.Server.Api;

/// <summary>
/// etcdserverpb.KV. Writes go through the log and answer once this node applied them; a linearizable read first
/// confirms a read point with ReadIndex; a serializable read is answered from the local store.
/// </summary>
public sealed class KvService(NodeHost node) : KV.KVBase
{
    public override Task<RangeResponse> Range(RangeRequest request, ServerCallContext context) =>
        ApiContext.Guard(() => RangeAsync(node, request, CallerCredentials.From(context), context.CancellationToken));

    /// <summary>A Range as the KV service answers it (the Lock and Election services read through this too).</summary>
    internal static async Task<RangeResponse> RangeAsync(NodeHost node, RangeRequest request, CallerCredentials caller, CancellationToken cancellationToken)
    {
        RequestValidator.ValidateSize(request, node.Options.Limits.MaxRequestBytes);
        RequestValidator.ValidateRange(request);
        if (!request.Serializable)
        {
            await node.LinearizableBarrierAsync(cancellationToken).ConfigureAwait(false);
        }

        // After the barrier, as etcd checks: the permissions are those of the state the read sees.
        AuthGate.CheckRead(node, caller, request.Key, request.RangeEnd);

        var response = node.Read(store => store.Range(request));
        response.Header = ApiContext.Header(node, response.Header);
        return response;
    }

    public override Task<PutResponse> Put(PutRequest request, ServerCallContext context) => ApiContext.Guard(async () =>
    {
        var started = Stopwatch.GetTimestamp();
        var command = new RaftCommand { Put = request };
        if (PutStageTrace.Enabled)
        {
            PutStageTrace.EnterPut(started);
        }

        var (response, revision) = await ApiContext.ProposeAsync<PutResponse>(node, command, context).ConfigureAwait(false);
        if (PutStageTrace.Enabled)
        {
            PutStageTrace.Resumed(command.RequestId);
        }

        response.Header = ApiContext.Header(node, response.Header, revision);
        // The status page's put latency: acknowledged puts only, from arrival to the applied answer.
        (node.Options.Observer as NodeObservability)?.PutLatency.Record(Stopwatch.GetElapsedTime(started));
        return response;
    });

    public override Task<DeleteRangeResponse> DeleteRange(DeleteRangeRequest request, ServerCallContext context) =>
        ApiContext.Guard(() => DeleteRangeAsync(node, request, CallerCredentials.From(context), context.CancellationToken));

    /// <summary>A DeleteRange as the KV service answers it (the Lock and Election services delete through this too).</summary>
    internal static async Task<DeleteRangeResponse> DeleteRangeAsync(NodeHost node, DeleteRangeRequest request, CallerCredentials caller, CancellationToken cancellationToken)
    {
        var (response, revision) = await ApiContext.ProposeAsync<DeleteRangeResponse>(node, new RaftCommand { DeleteRange = request }, caller, cancellationToken).ConfigureAwait(false);
        response.Header = ApiContext.Header(node, response.Header, revision);
        return response;
    }

    public override Task<TxnResponse> Txn(TxnRequest request, ServerCallContext context) =>
        ApiContext.Guard(() => TxnAsync(node, request, CallerCredentials.From(context), context.CancellationToken));

    /// <summary>A Txn as the KV service answers it (the Lock and Election services write through this too).</summary>
    internal static async Task<TxnResponse> TxnAsync(NodeHost node, TxnRequest request, CallerCredentials caller, CancellationToken cancellationToken)
    {
        if (MvccStore.IsReadOnly(request))
        {
            // A txn that only reads changes nothing, so it need not enter the log: confirm a read point and run it here.
            RequestValidator.ValidateTxn(request, node.Options.Limits.MaxTxnOps);
            RequestValidator.ValidateSize(request, node.Options.Limits.MaxRequestBytes);
            await node.LinearizableBarrierAsync(cancellationToken).ConfigureAwait(false);
            AuthGate.CheckTxn(node, caller, request);
            var local = node.Read(store => store.ReadOnlyTxn(request));
            local.Header = ApiContext.Header(node, local.Header);
            return local;
        }

        var (response, revision) = await ApiContext.ProposeAsync<TxnResponse>(node, new RaftCommand { Txn = request }, caller, cancellationToken).ConfigureAwait(false);
        response.Header = ApiContext.Header(node, response.Header, revision);
        return response;
    }

    public override Task<CompactionResponse> Compact(CompactionRequest request, ServerCallContext context) => ApiContext.Guard(async () =>
    {
        var (response, revision) = await ApiContext.ProposeAsync<CompactionResponse>(node, new RaftCommand { Compaction = request }, context).ConfigureAwait(false);
        response.Header = ApiContext.Header(node, response.Header, revision);
        return response;
    });
}
