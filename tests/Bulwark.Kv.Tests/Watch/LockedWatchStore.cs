using Bulwark.Api.Mvccpb;
using Bulwark.Kv.Watch;

namespace Bulwark.Kv.Tests.Watch;

/// <summary>A store behind a lock, written the way the applier does: apply under the lock, publish after releasing it.</summary>
internal sealed class LockedWatchStore : IWatchStore
{
    private readonly Lock gate = new();

    public MvccStore Store { get; private set; } = new();

    public WatchHub? Hub { get; set; }

    public T Read<T>(Func<MvccStore, T> read)
    {
        lock (gate)
        {
            return read(Store);
        }
    }

    /// <summary>Applies one write and publishes its events; returns the revision it made.</summary>
    public long Write(Action<MvccStore, List<Event>> write)
    {
        WriteUnpublished(write)();
        return Read(static s => s.Revision);
    }

    /// <summary>Applies one write but leaves its publish to the caller, as an applier that was preempted in between.</summary>
    public Action WriteUnpublished(Action<MvccStore, List<Event>> write)
    {
        var events = new List<Event>();
        long revision;
        lock (gate)
        {
            write(Store, events);
            revision = Store.Revision;
        }

        return () => Hub?.Publish(revision, events);
    }

    public void Replace(MvccStore store)
    {
        lock (gate)
        {
            Store = store;
        }

        Hub?.StoreReplaced();
    }
}
