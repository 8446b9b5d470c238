using Bulwark.Api.Etcdserverpb;
using Bulwark.Kv;
using Bulwark.Kv.Errors;
using Bulwark.Server.Hosting;
using Grpc.Core;

namespace Bulwark.Server.Api;

/// <summary>What every etcd service call needs: the node, response headers, and errors turned into etcd's statuses.</summary>
internal static class ApiContext
{
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

    /// <summary>Proposes a command and returns the store's response for it, or throws its error.</summary>
    public static Task<(T Response, long Revision)> ProposeAsync<T>(NodeHost node, Bulwark.Api.RaftCmd.RaftCommand command, ServerCallContext context)
        where T : class, Google.Protobuf.IMessage =>
        ProposeAsync<T>(node, command, context.CancellationToken);

    /// <summary>Proposes a command and returns the store's response for it, or throws its error.</summary>
    public static async Task<(T Response, long Revision)> ProposeAsync<T>(NodeHost node, Bulwark.Api.RaftCmd.RaftCommand command, CancellationToken cancellationToken)
        where T : class, Google.Protobuf.IMessage
    {
        ApplyResult result = await node.ProposeAsync(command, cancellationToken).ConfigureAwait(false);
        if (result.Error is { } error)
        {
            throw error.ToRpcException();
        }

        return (result.Response as T ?? throw new RpcException(new Status(StatusCode.Internal,
            $"bulwark: applying the command produced {result.Response?.GetType().Name ?? "nothing"}, not {typeof(T).Name}")), result.Revision);
    }
}
