using Grpc.Core;

namespace Bulwark.Kv.Errors;

/// <summary>
/// The errors of the key-value API, with etcd's gRPC status codes and exact messages
/// (clients such as etcdctl match on the message text).
/// </summary>
public static class KvErrors
{
    public const string EmptyKeyMessage = "etcdserver: key is not provided";
    public const string KeyNotFoundMessage = "etcdserver: key not found";
    public const string ValueProvidedMessage = "etcdserver: value is provided";
    public const string LeaseProvidedMessage = "etcdserver: lease is provided";
    public const string TooManyOpsMessage = "etcdserver: too many operations in txn request";
    public const string DuplicateKeyMessage = "etcdserver: duplicate key given in txn request";
    public const string CompactedMessage = "etcdserver: mvcc: required revision has been compacted";
    public const string FutureRevisionMessage = "etcdserver: mvcc: required revision is a future revision";
    public const string LeaseNotFoundMessage = "etcdserver: requested lease not found";
    public const string LeaseExistsMessage = "etcdserver: lease already exists";
    public const string LeaseTtlTooLargeMessage = "etcdserver: too large lease TTL";
    public const string RequestTooLargeMessage = "etcdserver: request is too large";
    public const string EmptyCommandMessage = "bulwark: raft command carries no request";
    public const string CorruptMessage = "etcdserver: corrupt cluster";

    public static KvException EmptyKey() => new(StatusCode.InvalidArgument, EmptyKeyMessage);

    /// <summary>ignore_value/ignore_lease on a missing key, or an empty operation in a txn.</summary>
    public static KvException KeyNotFound() => new(StatusCode.InvalidArgument, KeyNotFoundMessage);

    public static KvException ValueProvided() => new(StatusCode.InvalidArgument, ValueProvidedMessage);

    public static KvException LeaseProvided() => new(StatusCode.InvalidArgument, LeaseProvidedMessage);

    public static KvException TooManyOps() => new(StatusCode.InvalidArgument, TooManyOpsMessage);

    public static KvException DuplicateKey() => new(StatusCode.InvalidArgument, DuplicateKeyMessage);

    public static KvException Compacted() => new(StatusCode.OutOfRange, CompactedMessage);

    public static KvException FutureRevision() => new(StatusCode.OutOfRange, FutureRevisionMessage);

    public static KvException LeaseNotFound() => new(StatusCode.NotFound, LeaseNotFoundMessage);

    public static KvException LeaseExists() => new(StatusCode.FailedPrecondition, LeaseExistsMessage);

    public static KvException LeaseTtlTooLarge() => new(StatusCode.OutOfRange, LeaseTtlTooLargeMessage);

    public static KvException RequestTooLarge() => new(StatusCode.InvalidArgument, RequestTooLargeMessage);

    public static KvException EmptyCommand() => new(StatusCode.InvalidArgument, EmptyCommandMessage);

    /// <summary>etcd's ErrGRPCCorrupt: a write while the replicated CORRUPT alarm is active.</summary>
    public static KvException Corrupt() => new(StatusCode.DataLoss, CorruptMessage);

    /// <summary>An alarm request naming no alarm (NONE) or one etcd does not define.</summary>
    public static KvException UnknownAlarm(Bulwark.Api.Etcdserverpb.AlarmType alarm) =>
        new(StatusCode.InvalidArgument, $"bulwark: alarm {alarm} cannot be activated or deactivated (known alarms: NOSPACE, CORRUPT)");
}
