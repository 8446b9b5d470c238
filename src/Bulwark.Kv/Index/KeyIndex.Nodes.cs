namespace Bulwark.Kv.Index;

internal sealed partial class KeyIndex
{
    internal readonly record struct Split(Node? Right, byte[]? Separator, ulong SeparatorPrefix);

    internal abstract class Node
    {
        public abstract Split Insert(KeyRecord record, ulong prefix);
    }

    internal sealed class Leaf : Node
    {
        // One spare slot so an insert can overflow before the split.
        public readonly KeyRecord[] Items = new KeyRecord[LeafCapacity + 1];
        public readonly ulong[] Prefixes = new ulong[LeafCapacity + 1];
        public int Count;
        public Leaf? Next;
        public Leaf? Prev;

        public int LowerBound(ulong prefix, ReadOnlySpan<byte> key, out bool exact)
        {
            int lo = 0, hi = Count - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                int cmp = KeyPrefix.Compare(Prefixes[mid], Items[mid].Key, prefix, key);
                if (cmp == 0)
                {
                    exact = true;
                    return mid;
                }

                if (cmp < 0)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }

            exact = false;
            return lo;
        }

        public override Split Insert(KeyRecord record, ulong prefix)
        {
            int i = LowerBound(prefix, record.Key, out bool exact);
            if (exact)
            {
                throw new InvalidOperationException("Key index invariant broken: inserting a key that is already indexed.");
            }

            Array.Copy(Items, i, Items, i + 1, Count - i);
            Array.Copy(Prefixes, i, Prefixes, i + 1, Count - i);
            Items[i] = record;
            Prefixes[i] = prefix;
            Count++;
            if (Count <= LeafCapacity)
            {
                return default;
            }

            var right = new Leaf();

            // Appending at the end (ascending key loads) leaves the left leaf full instead of half full.
            int move = i == Count - 1 ? 1 : Count / 2;
            int from = Count - move;
            Array.Copy(Items, from, right.Items, 0, move);
            Array.Copy(Prefixes, from, right.Prefixes, 0, move);
            Array.Clear(Items, from, move);
            right.Count = move;
            Count = from;

            right.Next = Next;
            right.Prev = this;
            if (Next is not null)
            {
                Next.Prev = right;
            }

            Next = right;
            return new Split(right, right.Items[0].Key, right.Prefixes[0]);
        }

        public void RemoveAt(int i)
        {
            Count--;
            Array.Copy(Items, i + 1, Items, i, Count - i);
            Array.Copy(Prefixes, i + 1, Prefixes, i, Count - i);
            Items[Count] = null!;
        }

        public void Unlink()
        {
            if (Prev is not null)
            {
                Prev.Next = Next;
            }

            if (Next is not null)
            {
                Next.Prev = Prev;
            }

            Next = null;
            Prev = null;
        }
    }

    internal sealed class Branch : Node
    {
        // Children[i] holds keys in [Keys[i-1], Keys[i]); one spare slot each for overflow before a split.
        public readonly byte[][] Keys = new byte[BranchCapacity][];
        public readonly ulong[] KeyPrefixes = new ulong[BranchCapacity];
        public readonly Node[] Children = new Node[BranchCapacity + 1];
        public int ChildCount;

        /// <summary>Index of the child whose key interval contains <paramref name="key"/>.</summary>
        public int ChildFor(ulong prefix, ReadOnlySpan<byte> key)
        {
            // First separator strictly greater than key.
            int lo = 0, hi = ChildCount - 2;
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                if (KeyPrefix.Compare(KeyPrefixes[mid], Keys[mid], prefix, key) <= 0)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }

            return lo;
        }

        public override Split Insert(KeyRecord record, ulong prefix)
        {
            int c = ChildFor(prefix, record.Key);
            var split = Children[c].Insert(record, prefix);
            if (split.Right is null)
            {
                return default;
            }

            Array.Copy(Children, c + 1, Children, c + 2, ChildCount - c - 1);
            Array.Copy(Keys, c, Keys, c + 1, ChildCount - 1 - c);
            Array.Copy(KeyPrefixes, c, KeyPrefixes, c + 1, ChildCount - 1 - c);
            Children[c + 1] = split.Right;
            Keys[c] = split.Separator!;
            KeyPrefixes[c] = split.SeparatorPrefix;
            ChildCount++;
            if (ChildCount <= BranchCapacity)
            {
                return default;
            }

            int leftChildren = ChildCount / 2;
            var right = new Branch();
            int rightChildren = ChildCount - leftChildren;
            Array.Copy(Children, leftChildren, right.Children, 0, rightChildren);
            Array.Copy(Keys, leftChildren, right.Keys, 0, rightChildren - 1);
            Array.Copy(KeyPrefixes, leftChildren, right.KeyPrefixes, 0, rightChildren - 1);
            var promoted = Keys[leftChildren - 1];
            var promotedPrefix = KeyPrefixes[leftChildren - 1];
            Array.Clear(Children, leftChildren, rightChildren);
            Array.Clear(Keys, leftChildren - 1, rightChildren);
            right.ChildCount = rightChildren;
            ChildCount = leftChildren;
            return new Split(right, promoted, promotedPrefix);
        }

        public void RemoveChildAt(int c)
        {
            Array.Copy(Children, c + 1, Children, c, ChildCount - c - 1);
            Children[ChildCount - 1] = null!;
            int keyCount = ChildCount - 1;
            if (keyCount > 0)
            {
                // Removing child 0 drops the separator above it; otherwise the one below it.
                int k = c == 0 ? 0 : c - 1;
                Array.Copy(Keys, k + 1, Keys, k, keyCount - k - 1);
                Array.Copy(KeyPrefixes, k + 1, KeyPrefixes, k, keyCount - k - 1);
                Keys[keyCount - 1] = null!;
            }

            ChildCount--;
        }
    }
}
