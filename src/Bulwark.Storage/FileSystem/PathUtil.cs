namespace Bulwark.Storage.FileSystem;

/// <summary>'/'-separated path helpers that behave the same on every OS, so the in-memory file system is portable.</summary>
public static class PathUtil
{
    public static string Combine(string directory, string name) =>
        directory.Length == 0 ? name : directory.EndsWith('/') ? directory + name : directory + "/" + name;

    public static string Normalize(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var p = path.Replace('\\', '/');
        while (p.Length > 1 && p.EndsWith('/'))
        {
            p = p[..^1];
        }

        return p;
    }

    public static string DirectoryOf(string path)
    {
        var p = Normalize(path);
        var slash = p.LastIndexOf('/');
        return slash switch
        {
            < 0 => "",
            0 => "/",
            _ => p[..slash],
        };
    }

    public static string NameOf(string path)
    {
        var p = Normalize(path);
        var slash = p.LastIndexOf('/');
        return slash < 0 ? p : p[(slash + 1)..];
    }
}
