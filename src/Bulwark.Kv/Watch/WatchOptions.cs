using Google.Protobuf;

namespace Bulwark.Kv.Watch;

/// <summary>
/// What one watcher asks for, in etcd's terms: the key range (an empty <paramref name="RangeEnd"/> is one key, "\0" is
/// every key from <paramref name="Key"/> on), the first revision it wants (0 means "changes after now"), whether each
/// event carries the key's previous value, and which event types it does not want.
/// </summary>
public sealed record WatchOptions(ByteString Key, ByteString RangeEnd, long StartRevision, bool PrevKv = false, bool NoPut = false, bool NoDelete = false);
