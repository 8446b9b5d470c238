using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Cli.Client;
using Bulwark.Server.Backup;
using Grpc.Core;

namespace Bulwark.Cli.Commands;

/// <summary>
/// `bulwark snapshot save FILE` (an online backup through Maintenance.Snapshot, as `etcdctl snapshot save`) and
/// `bulwark snapshot status FILE` (checks a saved file's SHA-256 and prints what it holds, etcdutl's columns);
/// `bulwark snapshot restore` is <see cref="SnapshotRestoreCommand"/>.
/// </summary>
public static class SnapshotCommands
{
    public static Command Create()
    {
        var command = new Command("snapshot", "Back up a member's store to a file, inspect such a file, and restore a new cluster from it.");
        command.Subcommands.Add(Save());
        command.Subcommands.Add(Status());
        command.Subcommands.Add(SnapshotRestoreCommand.Create());
        return command;
    }

    private static Command Save()
    {
        var file = new Argument<string>("file") { Description = "Where to write the snapshot (written to FILE.part, checked, then renamed)." };
        var command = new Command("save", "Stream a snapshot of one member's store to FILE and print its revision, keys, size and SHA-256.") { file };
        ClientCommand.SetClientAction(command, async (parse, connection, output, format, cancellation) =>
        {
            var path = PositionalArguments.Checked(parse, parse.GetValue(file), "file")!;
            var part = path + ".part";
            try
            {
                // No deadline: a large store takes as long as it takes to stream (etcdctl's save has none either).
                await connection.CallAsync((i, _) => Download(connection.Maintenance(i), part, cancellation), cancellation).ConfigureAwait(false);
                BackupSummary summary;
                await using (var saved = File.OpenRead(part))
                {
                    summary = BackupFile.Read(saved);
                }

                File.Move(part, path, overwrite: true);
                if (format == OutputFormat.Simple)
                {
                    output.WriteLine($"Snapshot saved at {path}");
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"revision {summary.Revision}, total keys {summary.TotalKeys}, total size {summary.TotalBytes} bytes, sha256 {summary.Hash}"));
                }
                else
                {
                    Print(output, summary, format);
                }

                return 0;
            }
            catch (InvalidDataException e)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"error: the member sent a snapshot that does not check: {e.Message}").ConfigureAwait(false);
                return ClientCommand.ExitFailed;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"error: cannot write {path}: {e.Message}").ConfigureAwait(false);
                return ClientCommand.ExitBadInput;
            }
            finally
            {
                if (File.Exists(part))
                {
                    File.Delete(part);
                }
            }
        });
        return command;
    }

    private static async Task<bool> Download(Maintenance.MaintenanceClient client, string path, CancellationToken cancellation)
    {
        using var call = client.Snapshot(new SnapshotRequest(), new CallOptions(cancellationToken: cancellation));
        await using var destination = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024);
        await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancellation).ConfigureAwait(false))
        {
            chunk.Blob.WriteTo(destination);
        }

        await destination.FlushAsync(cancellation).ConfigureAwait(false);
        destination.Flush(flushToDisk: true);
        return true;
    }

    private static Command Status()
    {
        var file = new Argument<string>("file") { Description = "A file written by `bulwark snapshot save` or `etcdctl snapshot save` against Bulwark." };
        var writeOut = OutputFormatOption.Create();
        var command = new Command("status", "Check a snapshot file's SHA-256 and print its hash, revision, total keys and total size.") { file, writeOut };
        command.SetAction(async (parse, cancellation) =>
        {
            var config = parse.InvocationConfiguration;
            var path = parse.GetValue(file)!;
            try
            {
                var format = OutputFormatOption.Resolve(parse.GetValue(writeOut), json: false, writeOutGiven: true);
                BackupSummary summary;
                await using (var stream = File.OpenRead(path))
                {
                    summary = BackupFile.Read(stream);
                }

                Print(config.Output, summary, format);
                return 0;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                await config.Error.WriteLineAsync($"error: {path} is not a valid snapshot: {e.Message}").ConfigureAwait(false);
                return ClientCommand.ExitBadInput;
            }
        });
        return command;
    }

    /// <summary>etcdutl's snapshot status output: simple "hash, revision, keys, size", a table, or JSON.</summary>
    private static void Print(TextWriter output, BackupSummary summary, OutputFormat format)
    {
        var revision = summary.Revision.ToString(CultureInfo.InvariantCulture);
        var keys = summary.TotalKeys.ToString(CultureInfo.InvariantCulture);
        var size = summary.TotalBytes.ToString(CultureInfo.InvariantCulture);
        switch (format)
        {
            case OutputFormat.Json:
                output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["hash"] = summary.Hash,
                    ["revision"] = summary.Revision,
                    ["totalKey"] = summary.TotalKeys,
                    ["totalSize"] = summary.TotalBytes,
                }));
                break;
            case OutputFormat.Table:
                TextTable.Write(output, ["HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE"], [[summary.Hash, revision, keys, size]]);
                break;
            default:
                output.WriteLine($"{summary.Hash}, {revision}, {keys}, {size}");
                break;
        }
    }
}
