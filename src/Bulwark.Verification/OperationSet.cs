namespace Bulwark.Verification;

/// <summary>A fixed-size bitset of operation positions within one partition (which ones are linearized).</summary>
internal sealed class OperationSet
{
    private readonly ulong[] words;

    public OperationSet(int capacity) => words = new ulong[(capacity + 63) / 64];

    private OperationSet(ulong[] words) => this.words = words;

    public void Add(int position) => words[position >> 6] |= 1UL << (position & 63);

    public void Remove(int position) => words[position >> 6] &= ~(1UL << (position & 63));

    public OperationSet Clone() => new((ulong[])words.Clone());

    public bool SetEquals(OperationSet other) => words.AsSpan().SequenceEqual(other.words);

    public int Hash()
    {
        var hash = new HashCode();
        foreach (var word in words)
        {
            hash.Add(word);
        }

        return hash.ToHashCode();
    }
}
