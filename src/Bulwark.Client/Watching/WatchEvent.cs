using Bulwark.Api.Mvccpb;

namespace Bulwark.Client;

/// <summary>One change a watch reports.</summary>
/// <param name="Type">PUT or DELETE.</param>
/// <param name="Kv">The key-value after the change (for a DELETE: the key and the deletion's revision).</param>
/// <param name="PrevKv">The key-value before the change, when <see cref="WatchOptions.PrevKv"/> was asked for and there was one.</param>
/// <param name="Revision">The revision of the change (the key's mod revision).</param>
public sealed record WatchEvent(Event.Types.EventType Type, KeyValue Kv, KeyValue? PrevKv, long Revision);
