using System.Diagnostics;
using System.Globalization;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Hosting;
using Bulwark.Storage;
using Bulwark.Storage.FileSystem;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Bulwark.Server.Tests.Hosting;

/// <summary>
/// Issue 15 (rejoin): what a restarted member's replay of its own WAL costs, on the real file system: opening the
/// storage (reading the WAL), and applying every entry since the last snapshot. Prints wall and process CPU time and
/// the rate; asserts only what must hold (every entry applied, the store as written), never a duration.
/// Run: dotnet test tests/Bulwark.Server.Tests -c Release --filter "FullyQualifiedName~ReplayCostTests"
/// </summary>
public sealed class ReplayCostTests(ITestOutputHelper log)
{
    private const int Puts = 10_000;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public void Replay_of_ten_thousand_puts_from_the_WAL_prints_its_cost()
    {
        var dir = Directory.CreateTempSubdirectory("bulwark-replay-").FullName;
        try
        {
            var solo = new[] { new ClusterMember(7, "a", ["http://127.0.0.1:1"], []) };
            var options = new NodeHostOptions
            {
                NodeId = 7,
                InitialCluster = solo,
                DataDir = dir,
                AdvertiseClientUrls = ["http://127.0.0.1:2"],
                SnapshotThreshold = 1_000_000,
                RandomSeed = 7,
            };
            var value = ByteString.CopyFrom(new byte[256]);
            ulong id = 0;
            using (var first = new ReadyProcessor(options, NodeStorage.Open(RealFileSystem.Instance, dir), new NullPeerNetwork(), new PendingRequests(1_000_000), NullLogger.Instance))
            {
                ElectSolo(first);
                // Batches of 100 as a busy leader's group commit would log them.
                while (id < Puts)
                {
                    for (var j = 0; j < 100; j++)
                    {
                        id++;
                        first.Propose(id, new Bulwark.Api.RaftCmd.RaftCommand
                        {
                            RequestId = id,
                            Header = new Bulwark.Api.RaftCmd.CommandHeader { OriginMemberId = 7 },
                            Put = new PutRequest { Key = ByteString.CopyFromUtf8(string.Create(CultureInfo.InvariantCulture, $"preload/{id:D5}")), Value = value },
                        }.ToByteArray());
                    }

                    first.ProcessReadies();
                    Assert.True(first.WaitUntilApplied(first.Status.Commit, Patience), "the first run applies each batch");
                }

                // The last batch's commit index reaches the log with the next Ready (a heartbeat's).
                for (var i = 0; i < 3; i++)
                {
                    first.Tick();
                    first.ProcessReadies();
                }
            }

            // The restart, measured in two parts: storage open (WAL read), then the replay through the apply worker.
            // First an open in this process that is not measured, so the numbers below are the work and not the JIT.
            var (coldWall, coldCpu) = Measure(() => NodeStorage.Open(RealFileSystem.Instance, dir).Dispose());
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var wall = Stopwatch.StartNew();
            var storage = NodeStorage.Open(RealFileSystem.Instance, dir);
            var openWall = wall.Elapsed;
            var openCpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
            using var node = new ReadyProcessor(options, storage, new NullPeerNetwork(), new PendingRequests(1_000_000), NullLogger.Instance);
            var commit = node.Status.Commit;
            node.ProcessReadies();
            Assert.True(node.WaitUntilApplied(commit, Patience), $"the replay applies up to {commit}: {node.Status}");
            var replayWall = wall.Elapsed - openWall;
            var replayCpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0 - openCpu;
            Assert.Equal(Puts, node.Read(s => (int)s.LiveKeyCount));

            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                replay of {commit} entries ({Puts} puts of 256 B) on {Environment.ProcessorCount} cores, load average {LoadAverage()}:
                  storage open, first in the process (JIT included): {coldWall.TotalMilliseconds:0} ms wall, {coldCpu.TotalMilliseconds:0} ms CPU
                  storage open (WAL read): {openWall.TotalMilliseconds:0} ms wall, {openCpu.TotalMilliseconds:0} ms CPU
                  replay (apply worker):   {replayWall.TotalMilliseconds:0} ms wall, {replayCpu.TotalMilliseconds:0} ms CPU, {commit / Math.Max(replayCpu.TotalSeconds, 1e-3):0} entries per CPU-second
                """));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (TimeSpan Wall, TimeSpan Cpu) Measure(Action action)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        action();
        return (wall.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu);
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    private static void ElectSolo(ReadyProcessor node)
    {
        for (var i = 0; i < 100 && !node.Status.IsLeader; i++)
        {
            node.Tick();
            node.ProcessReadies();
        }

        Assert.True(node.Status.IsLeader, "a one-node cluster elects itself");
    }
}
