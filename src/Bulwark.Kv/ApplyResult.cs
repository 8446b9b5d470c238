using Bulwark.Api.Mvccpb;
using Bulwark.Kv.Errors;
using Google.Protobuf;

namespace Bulwark.Kv;

/// <summary>
/// What applying one committed command produced: the answer for the waiting call (a response
/// message or an error, never both), the store revision afterwards, and the watch events in
/// revision order (each with prev_kv when the key existed before).
/// </summary>
public sealed record ApplyResult(
    ulong RequestId,
    ulong OriginMemberId,
    IMessage? Response,
    KvException? Error,
    IReadOnlyList<Event> Events,
    long Revision)
{
    public bool Succeeded => Error is null;
}
