namespace Bulwark.Storage.FileSystem;

/// <summary>How many bytes the files directly in a directory take (their lengths, preallocated space included).</summary>
public static class DirectorySize
{
    /// <summary>
    /// Sums the lengths of the files in <paramref name="directory"/>. Safe against a concurrent writer: a file removed
    /// between the listing and its open (a pruned snapshot, a released WAL segment) counts as gone.
    /// </summary>
    public static long Of(IFileSystem fs, string directory)
    {
        ArgumentNullException.ThrowIfNull(fs);
        if (!fs.DirectoryExists(directory))
        {
            return 0;
        }

        long total = 0;
        foreach (var name in fs.ListFiles(directory))
        {
            try
            {
                using var file = fs.Open(PathUtil.Combine(directory, name), OpenMode.OpenExisting);
                total += file.Length;
            }
            catch (FileNotFoundException)
            {
                // Deleted meanwhile: it holds nothing any more.
            }
        }

        return total;
    }
}
