using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Bulwark.Server.Hosting;

namespace Bulwark.Bench.Compare;

/// <summary>
/// The catch-up benchmark's yardstick: the time to copy a file of a snapshot's size from disk to disk over one loopback
/// TCP connection (read, send, receive, write, fsync at the end), with nothing of Raft or gRPC in between.
/// </summary>
public static class LoopbackCopy
{
    private const int BufferBytes = 1 << 20;

    /// <summary>Writes a <paramref name="bytes"/>-byte file under <paramref name="dir"/>, then times copying it over loopback.</summary>
    public static async Task<TimeSpan> MeasureAsync(string dir, long bytes)
    {
        var source = Path.Combine(dir, "copy-source.bin");
        var target = Path.Combine(dir, "copy-target.bin");
        try
        {
            // Incompressible-looking content, written and synced before timing (it is then in the page cache, as the
            // leader's freshly written snapshot file would be).
            await using (var f = new FileStream(source, FileMode.Create, FileAccess.Write, FileShare.None, BufferBytes))
            {
                var block = new byte[BufferBytes];
                new Random(13).NextBytes(block);
                for (long left = bytes; left > 0; left -= block.Length)
                {
                    await f.WriteAsync(block.AsMemory(0, (int)Math.Min(block.Length, left))).ConfigureAwait(false);
                }

                f.Flush(flushToDisk: true);
            }

            var port = LoopbackPorts.Take(1)[0];
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            var clock = Stopwatch.StartNew();
            var receive = ReceiveAsync(listener, target);
            await SendAsync(port, source).ConfigureAwait(false);
            var received = await receive.ConfigureAwait(false);
            var elapsed = clock.Elapsed;
            if (received != bytes)
            {
                throw new InvalidOperationException($"loopback copy received {received} of {bytes} bytes");
            }

            return elapsed;
        }
        finally
        {
            File.Delete(source);
            File.Delete(target);
        }
    }

    private static async Task SendAsync(int port, string source)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, port).ConfigureAwait(false);
        await using var stream = client.GetStream();
        await using var file = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, BufferBytes);
        await file.CopyToAsync(stream, BufferBytes).ConfigureAwait(false);
        client.Client.Shutdown(SocketShutdown.Send);
    }

    private static async Task<long> ReceiveAsync(TcpListener listener, string target)
    {
        using var connection = await listener.AcceptTcpClientAsync().ConfigureAwait(false);
        await using var stream = connection.GetStream();
        await using var file = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None, BufferBytes);
        await stream.CopyToAsync(file, BufferBytes).ConfigureAwait(false);
        file.Flush(flushToDisk: true);
        return file.Length;
    }
}
