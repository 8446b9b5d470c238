namespace Bulwark.Storage.FileSystem;

/// <summary>
/// Sparse file contents in fixed pages: untouched pages read as zeros, so preallocating a 64 MiB segment costs nothing.
/// Invariant kept by callers: every byte at or beyond the file's length is zero.
/// </summary>
internal sealed class PageStore
{
    private const int PageSize = 4096;
    private readonly Dictionary<long, byte[]> pages;

    public PageStore() => pages = [];

    private PageStore(Dictionary<long, byte[]> pages) => this.pages = pages;

    public PageStore Clone()
    {
        var copy = new Dictionary<long, byte[]>(pages.Count);
        foreach (var (key, page) in pages)
        {
            copy[key] = (byte[])page.Clone();
        }

        return new PageStore(copy);
    }

    public void Read(long offset, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            var pageNo = offset / PageSize;
            var inPage = (int)(offset % PageSize);
            var n = Math.Min(PageSize - inPage, destination.Length);
            if (pages.TryGetValue(pageNo, out var page))
            {
                page.AsSpan(inPage, n).CopyTo(destination);
            }
            else
            {
                destination[..n].Clear();
            }

            destination = destination[n..];
            offset += n;
        }
    }

    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        while (!source.IsEmpty)
        {
            var pageNo = offset / PageSize;
            var inPage = (int)(offset % PageSize);
            var n = Math.Min(PageSize - inPage, source.Length);
            if (!pages.TryGetValue(pageNo, out var page))
            {
                page = new byte[PageSize];
                pages[pageNo] = page;
            }

            source[..n].CopyTo(page.AsSpan(inPage, n));
            source = source[n..];
            offset += n;
        }
    }

    /// <summary>Zeros everything from <paramref name="offset"/> on (used when a file is cut).</summary>
    public void ZeroFrom(long offset)
    {
        var firstWhole = (offset + PageSize - 1) / PageSize;
        List<long>? drop = null;
        foreach (var key in pages.Keys)
        {
            if (key >= firstWhole)
            {
                (drop ??= []).Add(key);
            }
        }

        if (drop is not null)
        {
            foreach (var key in drop)
            {
                pages.Remove(key);
            }
        }

        var inPage = (int)(offset % PageSize);
        if (inPage != 0 && pages.TryGetValue(offset / PageSize, out var partial))
        {
            partial.AsSpan(inPage).Clear();
        }
    }
}
