using Bulwark.Kv.Errors;
using Bulwark.Server.Hosting;
using Grpc.Core;

namespace Bulwark.Server.Api.Concurrency;

/// <summary>
/// The errors the Lock and Election services answer, as etcd 3.4 answers them. etcd serves these services through its
/// own in-process client (the concurrency package), so an error of the store it meets (an unknown lease, an empty key)
/// reaches the caller as a plain error: gRPC code Unknown with the store's message ("etcdserver: requested lease not
/// found"), not the code the KV service would give. The recipes' own errors are plain errors too.
/// </summary>
internal static class ConcurrencyErrors
{
    public const string NotLeaderMessage = "election: not leader";
    public const string NoLeaderMessage = "election: no leader";
    public const string MissingLeaderKeyMessage = "\"leader\" field must be provided";
    public const string SessionExpiredMessage = "session expired";
    public const string LostWatcherMessage = "lost watcher waiting for delete";

    public static RpcException NotLeader() => Plain(NotLeaderMessage);

    public static RpcException NoLeader() => Plain(NoLeaderMessage);

    public static RpcException MissingLeaderKey() => Plain(MissingLeaderKeyMessage);

    public static RpcException SessionExpired() => Plain(SessionExpiredMessage);

    public static RpcException LostWatcher() => Plain(LostWatcherMessage);

    /// <summary>
    /// Runs a call, answering a refusal as etcd's Lock and Election services do. A member that cannot serve right now
    /// (no leader, a timeout, stopping) keeps its Unavailable code, so a client retries against another member; a
    /// cancelled or expired call keeps its code too.
    /// </summary>
    public static async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (KvException e)
        {
            throw Plain(e.Message);
        }
        catch (NodeException e)
        {
            throw NodeErrorStatus.ToRpcException(e);
        }
        catch (RpcException e) when (!KeepsItsCode(e.StatusCode))
        {
            throw Plain(e.Status.Detail);
        }
    }

    /// <inheritdoc cref="Guard{T}(Func{Task{T}})"/>
    public static Task Guard(Func<Task> call) => Guard(async () =>
    {
        await call().ConfigureAwait(false);
        return true;
    });

    private static bool KeepsItsCode(StatusCode code) =>
        code is StatusCode.Unknown or StatusCode.Unavailable or StatusCode.Cancelled or StatusCode.DeadlineExceeded;

    private static RpcException Plain(string message) => new(new Status(StatusCode.Unknown, message));
}
