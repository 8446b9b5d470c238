namespace Bulwark.EndToEnd.Tests.Samples;

/// <summary>The built MasterBackup sample (the test project references it, so it is built first).</summary>
internal static class SampleBinaries
{
    public static string WorkerDll { get; } = Find(Path.Combine("samples", "MasterBackup", "Worker"), "MasterBackup.Worker.dll");

    public static string RouterDll { get; } = Find(Path.Combine("samples", "MasterBackup", "Router"), "MasterBackup.Router.dll");

    private static string Find(string project, string dll)
    {
        var baseDir = AppContext.BaseDirectory;
        var configuration = new DirectoryInfo(baseDir).Parent?.Name ?? "Release";
        for (var dir = new DirectoryInfo(baseDir); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Bulwark.slnx")))
            {
                var path = Path.Combine(dir.FullName, project, "bin", configuration, "net10.0", dll);
                return File.Exists(path)
                    ? path
                    : throw new FileNotFoundException($"{dll} not found at {path}; build {project} first");
            }
        }

        throw new FileNotFoundException($"{dll}: no Bulwark.slnx above {baseDir}");
    }
}
