namespace Bulwark.Storage.FileSystem;

/// <summary>How much of the unsynced writes survive a <see cref="InMemoryFileSystem.Crash"/>, per file.</summary>
public enum CrashMode
{
    /// <summary>Every write since the file's last sync is lost.</summary>
    LoseUnsynced,

    /// <summary>All unsynced writes reached the medium except the last one, of which only a prefix did (a torn write).</summary>
    TearLastUnsynced,

    /// <summary>A seeded random prefix of the unsynced writes survives and the write after it is torn at a random byte.</summary>
    RandomPrefix,
}

/// <summary>Thrown by <see cref="InMemoryFileSystem"/> at the injected crash point and by every call after it until <see cref="InMemoryFileSystem.Crash"/>.</summary>
public sealed class SimulatedCrashException : Exception
{
    public SimulatedCrashException(string message) : base(message)
    {
    }
}

/// <summary>
/// A deterministic in-memory file system with crash semantics, for tests and the consensus simulator.
/// Contents and length become durable at <see cref="IFileHandle.DataSync"/>; directory entries at
/// <see cref="SyncDirectory"/>. <see cref="Crash"/> throws away what was not durable (see <see cref="CrashMode"/>).
/// Fault injection: a capacity (disk full), an fsync failure at the Nth sync, and a crash at the Nth
/// write/flush/sync/namespace operation ("fault point"), so a test can crash a workload at every one of them.
/// No clock; the only randomness is a <see cref="Random"/> seeded by the constructor.
/// </summary>
public sealed class InMemoryFileSystem : IFileSystem
{
    private readonly object gate = new();
    private readonly Random random;
    private readonly HashSet<string> directories = new(StringComparer.Ordinal) { "", "/" };
    private Dictionary<string, MemoryFileNode> files = new(StringComparer.Ordinal);
    private Dictionary<string, MemoryFileNode> durableFiles = new(StringComparer.Ordinal);
    private long syncCount;
    private long? failSyncAt;
    private bool down;

    public InMemoryFileSystem(int seed = 0) => random = new Random(seed);

    /// <summary>Total bytes of file length allowed; growing past it raises <see cref="NoSpaceLeftOnDeviceException"/>. Null: unlimited.</summary>
    public long? CapacityBytes { get; set; }

    /// <summary>Sum of the lengths of all files.</summary>
    public long UsedBytes
    {
        get
        {
            lock (gate)
            {
                return Used();
            }
        }
    }

    /// <summary>How many fault points (writes, flushes, syncs, truncates, preallocations, creates, renames, deletes) have been passed.</summary>
    public long FaultPoints { get; private set; }

    /// <summary>
    /// When <see cref="FaultPoints"/> reaches this number, that operation does not happen (a write is torn instead:
    /// a seeded random prefix of it lands), <see cref="SimulatedCrashException"/> is thrown, and the file system
    /// stays down until <see cref="Crash"/>.
    /// </summary>
    public long? CrashAtFaultPoint { get; set; }

    /// <summary>Whether a write at the crash point leaves a torn prefix (true) or nothing (false).</summary>
    public bool TearWriteAtCrashPoint { get; set; } = true;

    /// <summary>Counts the DataSync and SyncDirectory calls so far.</summary>
    public long SyncCount => syncCount;

    /// <summary>The <paramref name="n"/>th sync from now (1 = the next one) fails with an <see cref="IOException"/>, like an EIO from fsync.</summary>
    public void FailSyncAfter(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        lock (gate)
        {
            failSyncAt = syncCount + n;
        }
    }

    /// <summary>True between the injected crash point and <see cref="Crash"/>.</summary>
    public bool IsDown => down;

    /// <summary>
    /// The machine loses power: every open handle becomes unusable, files and names not made durable go away
    /// (as <paramref name="mode"/> says) and the file system is up again.
    /// </summary>
    public void Crash(CrashMode mode = CrashMode.LoseUnsynced) => Crash(mode, random);

    /// <summary>As <see cref="Crash(CrashMode)"/>, drawing the random cuts from the caller's generator (e.g. a simulator's seeded one).</summary>
    public void Crash(CrashMode mode, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        lock (gate)
        {
            var seen = new HashSet<MemoryFileNode>(ReferenceEqualityComparer.Instance);
            foreach (var path in durableFiles.Keys.Order(StringComparer.Ordinal))
            {
                var node = durableFiles[path];
                if (!seen.Add(node))
                {
                    continue;
                }

                var count = node.PendingCount;
                var (keep, torn) = mode switch
                {
                    CrashMode.LoseUnsynced => (0, 0),
                    CrashMode.TearLastUnsynced => count == 0 ? (0, 0) : (count - 1, TornLength(random, node.PendingWriteLength(count - 1))),
                    _ => RandomCut(random, node),
                };
                node.Crash(keep, torn);
            }

            files = new Dictionary<string, MemoryFileNode>(durableFiles, StringComparer.Ordinal);
            Generation++;
            down = false;
            CrashAtFaultPoint = null;
            failSyncAt = null;
        }
    }

    /// <summary>XORs one byte of a file on the medium (durable and current image): bit rot for corruption tests.</summary>
    public void CorruptByte(string path, long offset, byte xorMask)
    {
        lock (gate)
        {
            var node = Get(path);
            if (offset < 0 || offset >= Math.Max(node.Length, node.DurableLength))
            {
                throw new ArgumentOutOfRangeException(nameof(offset), $"offset {offset} is outside '{path}'");
            }

            node.Corrupt(offset, xorMask);
        }
    }

    /// <summary>The file's current contents (what a reader sees now).</summary>
    public byte[] ReadAllBytes(string path)
    {
        lock (gate)
        {
            var node = Get(path);
            var bytes = new byte[node.Length];
            node.Current.Read(0, bytes);
            return bytes;
        }
    }

    internal int Generation { get; private set; }

    public IFileHandle Open(string path, OpenMode mode)
    {
        path = PathUtil.Normalize(path);
        lock (gate)
        {
            ThrowIfDown();
            var dir = PathUtil.DirectoryOf(path);
            if (!directories.Contains(dir))
            {
                throw new DirectoryNotFoundException($"Directory '{dir}' does not exist (opening '{path}').");
            }

            var exists = files.TryGetValue(path, out var node);
            switch (mode)
            {
                case OpenMode.OpenExisting when !exists:
                    throw new FileNotFoundException($"File '{path}' does not exist.", path);
                case OpenMode.CreateNew when exists:
                    throw new IOException($"File '{path}' already exists.");
            }

            if (node is null)
            {
                if (Point(path))
                {
                    throw Crashed(path);
                }

                node = new MemoryFileNode();
                files[path] = node;
            }

            return new InMemoryFileHandle(this, path, node, Generation);
        }
    }

    public bool FileExists(string path)
    {
        lock (gate)
        {
            return files.ContainsKey(PathUtil.Normalize(path));
        }
    }

    public bool DirectoryExists(string path)
    {
        lock (gate)
        {
            return directories.Contains(PathUtil.Normalize(path));
        }
    }

    public void CreateDirectory(string path)
    {
        path = PathUtil.Normalize(path);
        lock (gate)
        {
            ThrowIfDown();
            for (var p = path; p.Length > 0 && p != "/"; p = PathUtil.DirectoryOf(p))
            {
                directories.Add(p);
            }
        }
    }

    public IReadOnlyList<string> ListFiles(string directory)
    {
        directory = PathUtil.Normalize(directory);
        lock (gate)
        {
            ThrowIfDown();
            if (!directories.Contains(directory))
            {
                throw new DirectoryNotFoundException($"Directory '{directory}' does not exist.");
            }

            var names = new List<string>();
            foreach (var path in files.Keys)
            {
                if (PathUtil.DirectoryOf(path) == directory)
                {
                    names.Add(PathUtil.NameOf(path));
                }
            }

            names.Sort(StringComparer.Ordinal);
            return names;
        }
    }

    public void Rename(string from, string to)
    {
        from = PathUtil.Normalize(from);
        to = PathUtil.Normalize(to);
        lock (gate)
        {
            ThrowIfDown();
            var node = Get(from);
            if (!directories.Contains(PathUtil.DirectoryOf(to)))
            {
                throw new DirectoryNotFoundException($"Directory of '{to}' does not exist.");
            }

            if (Point(from))
            {
                throw Crashed(from);
            }

            files.Remove(from);
            files[to] = node;
        }
    }

    public void Delete(string path)
    {
        path = PathUtil.Normalize(path);
        lock (gate)
        {
            ThrowIfDown();
            _ = Get(path);
            if (Point(path))
            {
                throw Crashed(path);
            }

            files.Remove(path);
        }
    }

    public void SyncDirectory(string directory)
    {
        directory = PathUtil.Normalize(directory);
        lock (gate)
        {
            ThrowIfDown();
            if (!directories.Contains(directory))
            {
                throw new DirectoryNotFoundException($"Directory '{directory}' does not exist.");
            }

            if (Point(directory))
            {
                throw Crashed(directory);
            }

            CountSync(directory);
            foreach (var path in durableFiles.Keys.ToList())
            {
                if (PathUtil.DirectoryOf(path) == directory)
                {
                    durableFiles.Remove(path);
                }
            }

            foreach (var (path, node) in files)
            {
                if (PathUtil.DirectoryOf(path) == directory)
                {
                    durableFiles[path] = node;
                }
            }
        }
    }

    internal object Gate => gate;

    internal void Write(InMemoryFileHandle handle, long offset, ReadOnlySpan<byte> data)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        CheckHandle(handle);
        var node = handle.Node;
        if (Point(handle.Path))
        {
            if (TearWriteAtCrashPoint && data.Length > 0)
            {
                node.Write(offset, data[..TornLength(random, data.Length)]);
            }

            throw Crashed(handle.Path);
        }

        var growth = Math.Max(0, offset + data.Length - node.Length);
        var room = Room();
        if (growth > room)
        {
            // Like write(2) on ENOSPC: what fits lands, the rest does not.
            var fits = (int)Math.Max(0, node.Length + room - offset);
            if (fits > 0)
            {
                node.Write(offset, data[..fits]);
            }

            throw new NoSpaceLeftOnDeviceException($"No space left on device writing {data.Length} bytes to '{handle.Path}' at {offset}.");
        }

        node.Write(offset, data);
    }

    internal void SetLength(InMemoryFileHandle handle, long length, bool preallocate)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        CheckHandle(handle);
        var node = handle.Node;
        if (preallocate && length <= node.Length)
        {
            return;
        }

        if (Point(handle.Path))
        {
            throw Crashed(handle.Path);
        }

        var growth = length - node.Length;
        var room = Room();
        if (growth > room)
        {
            if (preallocate && room > 0)
            {
                node.SetLength(node.Length + room);
            }

            throw new NoSpaceLeftOnDeviceException($"No space left on device growing '{handle.Path}' to {length} bytes.");
        }

        node.SetLength(length);
    }

    internal void Sync(InMemoryFileHandle handle)
    {
        CheckHandle(handle);
        if (Point(handle.Path))
        {
            throw Crashed(handle.Path);
        }

        CountSync(handle.Path);
        handle.Node.Sync();
    }

    internal void FlushPoint(InMemoryFileHandle handle)
    {
        CheckHandle(handle);
        if (Point(handle.Path))
        {
            throw Crashed(handle.Path);
        }
    }

    internal void CheckHandle(InMemoryFileHandle handle)
    {
        ThrowIfDown();
        if (handle.Generation != Generation)
        {
            throw new ObjectDisposedException(handle.Path, "This handle was opened before a simulated crash.");
        }
    }

    private void CountSync(string path)
    {
        syncCount++;
        if (failSyncAt == syncCount)
        {
            failSyncAt = null;
            throw new IOException($"Input/output error (simulated fsync failure) syncing '{path}'.");
        }
    }

    /// <summary>Counts a fault point; true if it is the crash point (the file system is then down).</summary>
    private bool Point(string path)
    {
        FaultPoints++;
        if (CrashAtFaultPoint == FaultPoints)
        {
            down = true;
            return true;
        }

        return false;
    }

    private SimulatedCrashException Crashed(string path) =>
        new($"Simulated crash at fault point {FaultPoints} ({path}).");

    private void ThrowIfDown()
    {
        if (down)
        {
            throw new SimulatedCrashException("The file system is down after a simulated crash; call Crash() to restart it.");
        }
    }

    private static int TornLength(Random random, int length) => length <= 1 ? 0 : random.Next(0, length);

    private static (int Keep, int Torn) RandomCut(Random random, MemoryFileNode node)
    {
        var keep = random.Next(0, node.PendingCount + 1);
        var torn = keep < node.PendingCount ? TornLength(random, node.PendingWriteLength(keep)) : 0;
        return (keep, torn);
    }

    private long Used()
    {
        long total = 0;
        foreach (var node in files.Values.Distinct())
        {
            total += node.Length;
        }

        return total;
    }

    private long Room() => CapacityBytes is { } cap ? Math.Max(0, cap - Used()) : long.MaxValue / 4;

    private MemoryFileNode Get(string path) =>
        files.TryGetValue(PathUtil.Normalize(path), out var node)
            ? node
            : throw new FileNotFoundException($"File '{path}' does not exist.", path);
}
