namespace Bulwark.Kv.Watch;

/// <summary>
/// Access to the store the watch hub reads history from: <see cref="Read{T}"/> runs under whatever lock keeps the store
/// consistent, and always sees the current store (it is replaced when a snapshot is restored).
/// </summary>
public interface IWatchStore
{
    T Read<T>(Func<MvccStore, T> read);
}
