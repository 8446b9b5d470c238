namespace Bulwark.Kv.Index;

/// <summary>
/// Ordered index of <see cref="KeyRecord"/>s by key bytes (unsigned lexicographic order, as etcd).
/// A B+tree: leaves hold up to <see cref="LeafCapacity"/> records in sorted arrays and are
/// doubly linked for range scans; branches hold separator keys. Next to every key reference
/// sits its 8-byte <see cref="KeyPrefix"/>, so searches mostly compare numbers in the node
/// instead of chasing key arrays. Memory overhead is about 16 bytes per key (reference and
/// prefix, plus slack in partly filled leaves), with no per-key node objects.
/// Removal does not rebalance: leaves shrink, empty ones are unlinked, and the root collapses
/// when it has one child. Removal only happens on compaction, so sparse leaves are rare.
/// </summary>
internal sealed partial class KeyIndex
{
    internal const int LeafCapacity = 64;
    internal const int BranchCapacity = 64;

    private Node root = new Leaf();

    public int Count { get; private set; }

    public KeyRecord? Find(ReadOnlySpan<byte> key)
    {
        ulong prefix = KeyPrefix.Of(key);
        var leaf = FindLeaf(prefix, key);
        int i = leaf.LowerBound(prefix, key, out bool exact);
        return exact ? leaf.Items[i] : null;
    }

    /// <summary>Adds a record whose key is not in the index yet.</summary>
    public void Insert(KeyRecord record)
    {
        ulong prefix = KeyPrefix.Of(record.Key);
        var split = root.Insert(record, prefix);
        if (split.Right is not null)
        {
            var newRoot = new Branch();
            newRoot.Children[0] = root;
            newRoot.Children[1] = split.Right;
            newRoot.Keys[0] = split.Separator!;
            newRoot.KeyPrefixes[0] = split.SeparatorPrefix;
            newRoot.ChildCount = 2;
            root = newRoot;
        }

        Count++;
    }

    public bool Remove(ReadOnlySpan<byte> key)
    {
        Span<int> path = stackalloc int[64];
        var branches = new Branch[64];
        int depth = 0;
        ulong prefix = KeyPrefix.Of(key);
        var node = root;
        while (node is Branch branch)
        {
            int c = branch.ChildFor(prefix, key);
            branches[depth] = branch;
            path[depth] = c;
            depth++;
            node = branch.Children[c];
        }

        var leaf = (Leaf)node;
        int i = leaf.LowerBound(prefix, key, out bool exact);
        if (!exact)
        {
            return false;
        }

        leaf.RemoveAt(i);
        Count--;
        if (leaf.Count == 0 && depth > 0)
        {
            leaf.Unlink();
            for (int d = depth - 1; d >= 0; d--)
            {
                branches[d].RemoveChildAt(path[d]);
                if (branches[d].ChildCount > 0)
                {
                    break;
                }
            }
        }

        while (root is Branch top && top.ChildCount <= 1)
        {
            root = top.ChildCount == 1 ? top.Children[0] : new Leaf();
        }

        return true;
    }

    /// <summary>A cursor at the first record whose key is &gt;= <paramref name="key"/>.</summary>
    public Cursor Seek(ReadOnlySpan<byte> key)
    {
        ulong prefix = KeyPrefix.Of(key);
        var leaf = FindLeaf(prefix, key);
        int i = leaf.LowerBound(prefix, key, out _);
        return new Cursor(leaf, i);
    }

    /// <summary>A cursor at the first record.</summary>
    public Cursor First()
    {
        var node = root;
        while (node is Branch b)
        {
            node = b.Children[0];
        }

        return new Cursor((Leaf)node, 0);
    }

    private Leaf FindLeaf(ulong prefix, ReadOnlySpan<byte> key)
    {
        var node = root;
        while (node is Branch b)
        {
            node = b.Children[b.ChildFor(prefix, key)];
        }

        return (Leaf)node;
    }

    /// <summary>Forward iteration over records in key order.</summary>
    public struct Cursor
    {
        private Leaf? leaf;
        private int index;

        internal Cursor(Leaf leaf, int index)
        {
            this.leaf = leaf;
            this.index = index;
        }

        public bool TryNext(out KeyRecord record)
        {
            while (leaf is not null)
            {
                if (index < leaf.Count)
                {
                    record = leaf.Items[index++];
                    return true;
                }

                leaf = leaf.Next;
                index = 0;
            }

            record = null!;
            return false;
        }
    }
}
