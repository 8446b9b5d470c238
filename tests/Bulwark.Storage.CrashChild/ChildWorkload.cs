using Bulwark.Consensus;

namespace Bulwark.Storage.CrashChild;

/// <summary>The entries the child writes, derived from the index alone so the parent can check every byte it reads back.</summary>
public static class ChildWorkload
{
    public static Entry MakeEntry(ulong index)
    {
        var data = new byte[(int)(index * 37 % 600)];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(index * 13 + (ulong)i);
        }

        return new Entry(1 + index / 1000, index, EntryType.Normal, data);
    }

    /// <summary>Batch size for the batch starting at <paramref name="index"/>: 1 to 20, varied.</summary>
    public static int BatchSize(ulong index) => 1 + (int)(index * 7919 % 20);
}
