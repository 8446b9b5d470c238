using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace Bulwark.Client.Tests.Unit;

/// <summary>
/// The client ships as NuGet packages: `dotnet pack` of the already-built projects gives packages with the assembly,
/// its XML docs and a README, and the dependencies a consumer's restore needs (Bulwark.Api for the client, the client
/// for the hosting package).
/// </summary>
public sealed class PackageTests : IDisposable
{
    private readonly string output = Directory.CreateTempSubdirectory("bulwark-pack-").FullName;

    [Theory]
    [InlineData("Bulwark.Client", "Bulwark.Api")]
    [InlineData("Bulwark.Client.Hosting", "Bulwark.Client")]
    public async Task The_project_packs_with_docs_readme_and_dependencies(string project, string dependency)
    {
        var csproj = Path.Combine(RepositoryRoot(), "src", project, project + ".csproj");
        var (exit, log) = await RunAsync("dotnet", "pack", csproj, "-c", "Release", "--no-build", "-o", output);
        Assert.True(exit == 0, $"dotnet pack {project} failed:{Environment.NewLine}{log}");

        var package = Assert.Single(Directory.GetFiles(output, project + ".*.nupkg"), f => !f.EndsWith(".symbols.nupkg", StringComparison.Ordinal));
        using var zip = ZipFile.OpenRead(package);
        var names = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
        Assert.Contains($"lib/net10.0/{project}.dll", names);
        Assert.Contains($"lib/net10.0/{project}.xml", names);
        Assert.Contains("README.md", names);

        using var nuspecStream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        var nuspec = XDocument.Load(nuspecStream);
        var ns = nuspec.Root!.GetDefaultNamespace();
        var metadata = nuspec.Root.Element(ns + "metadata")!;
        Assert.Equal(project, metadata.Element(ns + "id")!.Value);
        Assert.Equal("README.md", metadata.Element(ns + "readme")!.Value);
        Assert.Contains(metadata.Descendants(ns + "dependency"), d => (string?)d.Attribute("id") == dependency);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Bulwark.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new FileNotFoundException("Bulwark.slnx not found above the test output");
    }

    private static async Task<(int Exit, string Log)> RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        return (process.ExitCode, await stdout + await stderr);
    }

    public void Dispose() => Directory.Delete(output, recursive: true);
}
