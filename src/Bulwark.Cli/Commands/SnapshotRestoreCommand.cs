using System.CommandLine;
using System.Globalization;
using Bulwark.Cli.Client;
using Bulwark.Server.Backup;

namespace Bulwark.Cli.Commands;

/// <summary>
/// `bulwark snapshot restore FILE --name --initial-cluster --initial-advertise-peer-urls --data-dir` with etcdctl 3.4's
/// flags and defaults (also --initial-cluster-token and --skip-hash-check): builds the data dir of one member of a new
/// cluster from a backup file (<see cref="BackupRestore"/>). Bad input (a bad flag, a data dir in use, a file that is
/// truncated, corrupted or not a Bulwark snapshot) exits 2 and writes nothing.
/// </summary>
public static class SnapshotRestoreCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A file written by `bulwark snapshot save` or `etcdctl snapshot save` against Bulwark." };
        var name = new Option<string>("--name") { Description = "This member's name.", DefaultValueFactory = _ => RestorePlan.DefaultName };
        var initialCluster = new Option<string>("--initial-cluster")
        {
            Description = "Every member of the new cluster, name=peer-url,... (give all members the same list).",
            DefaultValueFactory = _ => RestorePlan.DefaultInitialCluster,
        };
        var advertise = new Option<string>("--initial-advertise-peer-urls")
        {
            Description = "This member's peer URL(s); must be what --initial-cluster gives NAME.",
            DefaultValueFactory = _ => RestorePlan.DefaultAdvertisePeerUrls,
        };
        var token = new Option<string>("--initial-cluster-token")
        {
            Description = "Accepted for etcdctl compatibility; Bulwark derives the cluster id from the members (as bulwark serve does).",
            DefaultValueFactory = _ => RestorePlan.DefaultInitialClusterToken,
        };
        var dataDir = new Option<string>("--data-dir") { Description = "Where to build the member's data dir (default NAME.etcd); must not exist or be empty." };
        var skipHash = new Option<bool>("--skip-hash-check")
        {
            Description = "Do not compare the SHA-256 trailer (a file without one is taken whole); the store's own checksum is still checked.",
        };
        var command = new Command("restore", "Build the data dir of one member of a new cluster from a snapshot file (revisions go on from the file's).")
        {
            file, name, initialCluster, advertise, token, dataDir, skipHash,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var config = parse.InvocationConfiguration;
            try
            {
                var plan = RestorePlan.Create(parse.GetValue(file)!, parse.GetValue(name), parse.GetValue(initialCluster), parse.GetValue(advertise),
                    parse.GetValue(dataDir), parse.GetValue(token), parse.GetValue(skipHash));
                // Not Task.Run(..., cancellation): on Ctrl-C the restore itself stops and removes what it wrote.
                var result = await Task.Run(() => BackupRestore.Restore(plan, cancellation), CancellationToken.None).ConfigureAwait(false);
                config.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"restored snapshot {plan.SnapshotFile} (revision {result.Summary.Revision}, total keys {result.Summary.TotalKeys}) into {plan.DataDir}"));
                config.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"member {plan.Self.Name} id {result.MemberId:x} of cluster {result.ClusterId:x} ({plan.InitialCluster.Count} members), starting at index {result.Index} term {result.Term}"));
                foreach (var alarm in result.DroppedAlarms)
                {
                    config.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"dropped the old cluster's alarm memberID:{alarm.MemberID} alarm:{alarm.Alarm.ToString().ToUpperInvariant()} (the restored cluster starts without alarms)"));
                }
                return 0;
            }
            catch (RestoreRefusedException e)
            {
                await config.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return ClientCommand.ExitBadInput;
            }
            catch (OperationCanceledException)
            {
                await config.Error.WriteLineAsync("error: restore cancelled; nothing was written").ConfigureAwait(false);
                return ClientCommand.ExitFailed;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Nothing is left behind (BackupRestore removes its temporary dir), so running it again is safe.
                await config.Error.WriteLineAsync($"error: cannot write the data dir: {e.Message}").ConfigureAwait(false);
                return ClientCommand.ExitBadInput;
            }
        });
        return command;
    }
}
