using Bulwark.Api.Etcdserverpb;
using Bulwark.Kv;
using Bulwark.Kv.Errors;
using Bulwark.Server.Api.Auth;
using Bulwark.Server.Hosting;
using Grpc.Core;

namespace Bulwark.Server.Api;

/// <summary>What every etcd service call needs: the node, response headers, and errors turned into etcd's statuses.</summary>
internal static class ApiContext
{
    private const int MaxAuthRetries = 5;

    /// <summary>Fills cluster_id, member_id, raft_term and (unless the store already set it) revision.</summary>
    public static ResponseHeader Header(NodeHost node, ResponseHeader? header, long revision = 0)
    {
        header ??= new ResponseHeader();
        header.ClusterId = node.ClusterId;
        header.MemberId = node.MemberId;
        header.RaftTerm = node.Status.Term;
        if (header.Revision == 0)
        {
            header.Revision = revision != 0 ? revision : node.Read(s => s.Revision);
        }

        return header;
    }

    /// <summary>
    /// Runs a call, turning a refused request (by the store or by the node) into the gRPC status etcd gives for it.
    /// Every service method that reaches the node runs under it: nothing below this layer speaks gRPC.
    /// </summary>
    public static async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (KvException e)
        {
            throw e.ToRpcException();
        }
        catch (NodeException e)
        {
            throw NodeErrorStatus.ToRpcException(e);
        }
    }

    /// <summary>Proposes a client's command (checked as that caller when it applies) and returns the store's response for it, or throws its error.</summary>
    public static Task<(T Response, long Revision)> ProposeAsync<T>(NodeHost node, Bulwark.Api.RaftCmd.RaftCommand command, ServerCallContext context)
        where T : class, Google.Protobuf.IMessage =>
        ProposeAsync<T>(node, command, CallerCredentials.From(context), context.CancellationToken);

    /// <summary>
    /// Proposes a command and returns the store's response for it, or throws its error. A <paramref name="caller"/>
    /// makes it a client's command, which the state machine checks against that caller's permissions when auth is on;
    /// null makes it the member's own (lease expiry, alarms), which is not checked.
    /// </summary>
    public static async Task<(T Response, long Revision)> ProposeAsync<T>(NodeHost node, Bulwark.Api.RaftCmd.RaftCommand command, CallerCredentials? caller,
        CancellationToken cancellationToken)
        where T : class, Google.Protobuf.IMessage
    {
        ApplyResult result;
        int attempt = 0;
        while (true)
        {
            if (caller is not null)
            {
                command.Header = new Bulwark.Api.RaftCmd.CommandHeader { Caller = AuthGate.Resolve(node, caller) };
            }

            result = await node.ProposeAsync(command, cancellationToken).ConfigureAwait(false);
            // As etcd's raftRequest: an auth change committed between this member's look at the caller and the
            // command's apply makes the command stale, not wrong; look again and propose again (bounded here).
            if (result.Error?.Message == Bulwark.Kv.Auth.AuthErrors.AuthOldRevisionMessage && caller is not null && ++attempt < MaxAuthRetries)
            {
                continue;
            }

            break;
        }

        if (result.Error is { } error)
        {
            throw error.ToRpcException();
        }

        return (result.Response as T ?? throw new RpcException(new Status(StatusCode.Internal,
            $"bulwark: applying the command produced {result.Response?.GetType().Name ?? "nothing"}, not {typeof(T).Name}")), result.Revision);
    }
}
