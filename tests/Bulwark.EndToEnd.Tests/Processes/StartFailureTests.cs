using Bulwark.Api.Etcdserverpb;
using Bulwark.Cli.Commands;
using Google.Protobuf;
using Xunit.Abstractions;

namespace Bulwark.EndToEnd.Tests.Processes;

/// <summary>
/// A member opens its client port before its storage (so clients hear "catching up" instead of backing off), and a
/// storage it cannot open still ends the process with the same exit code and log event as before.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class StartFailureTests(ITestOutputHelper log)
{
    [Fact]
    public async Task A_member_with_a_damaged_log_exits_with_code_3_and_names_the_damage_after_its_client_port_opened()
    {
        await using var cluster = await ProcessCluster.StartAsync(1);
        try
        {
            await cluster.Kv(0).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") },
                deadline: DateTime.UtcNow.AddSeconds(30));
            await cluster.KillAsync(0);
            var segment = Directory.GetFiles(Path.Combine(cluster.DataDir(0), "wal"), "*.wal").Order(StringComparer.Ordinal).First();
            await using (var file = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite))
            {
                // The segment header: a damaged header is corruption wherever the segment is (not a torn tail).
                var first = file.ReadByte();
                file.Position = 0;
                file.WriteByte((byte)(first ^ 0xFF));
            }

            cluster.Start(0);
            Assert.Equal(ServeCommand.ExitCorruptStorage, await cluster.WaitForExitAsync(0));
            var lines = cluster.StandardOutput(0);
            var listening = lines.ToList().FindIndex(l => l.Contains("\"event.action\":\"ClientApiListening\"", StringComparison.Ordinal));
            var corrupt = lines.ToList().FindIndex(l => l.Contains("refusing to start: storage corruption in ", StringComparison.Ordinal)
                && l.Contains(Path.GetFileName(segment), StringComparison.Ordinal));
            Assert.True(corrupt >= 0, "no corruption log line naming the damaged segment");
            Assert.True(listening >= 0 && listening < corrupt, "the client port did not open before the storage was opened");
        }
        catch
        {
            log.WriteLine(cluster.Logs());
            throw;
        }
    }
}
