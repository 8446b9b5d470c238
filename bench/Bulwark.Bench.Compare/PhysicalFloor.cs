using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Bulwark.Storage.FileSystem;

namespace Bulwark.Bench.Compare;

/// <summary>What no replicated write on this machine can beat: one fdatasync of a small write, one loopback round trip.</summary>
public sealed record PhysicalFloorResult(double FdatasyncMedianMs, double FdatasyncP99Ms, double LoopbackRttMedianMs, double LoopbackRttP99Ms)
{
    /// <summary>
    /// A committed put needs at least the client's round trip, the leader-to-follower round trip and one fdatasync (the
    /// leader's and the follower's syncs can overlap).
    /// </summary>
    public double PutFloorMs => FdatasyncMedianMs + (2 * LoopbackRttMedianMs);
}

public static class PhysicalFloor
{
    /// <summary>Measures both in <paramref name="dir"/> (which must be on the clusters' data disk).</summary>
    public static async Task<PhysicalFloorResult> MeasureAsync(string dir)
    {
        var (syncMedian, syncP99) = Fdatasync(dir, 512, 300);
        var (rttMedian, rttP99) = await LoopbackRoundTripAsync(3000).ConfigureAwait(false);
        return new PhysicalFloorResult(syncMedian, syncP99, rttMedian, rttP99);
    }

    /// <summary>write(bytes) + fdatasync at increasing offsets of a preallocated file (as a WAL segment is), timed one by one.</summary>
    private static (double Median, double P99) Fdatasync(string dir, int bytes, int count)
    {
        var path = Path.Combine(dir, "floor-" + Guid.NewGuid().ToString("N")[..8] + ".dat");
        var samples = new double[count];
        using (var file = RealFileSystem.Instance.Open(path, OpenMode.CreateNew))
        {
            file.Preallocate(16L << 20);
            file.DataSync();
            var block = new byte[bytes];
            Array.Fill(block, (byte)0x5A);
            for (var i = 0; i < count; i++)
            {
                var start = Stopwatch.GetTimestamp();
                file.WriteAt((long)i * bytes, block);
                file.DataSync();
                samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }

        File.Delete(path);
        return Percentiles(samples);
    }

    /// <summary>One byte there and back over a TCP loopback connection with Nagle off.</summary>
    private static async Task<(double Median, double P99)> LoopbackRoundTripAsync(int count)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient { NoDelay = true };
        var accept = listener.AcceptTcpClientAsync();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port).ConfigureAwait(false);
        using var server = await accept.ConfigureAwait(false);
        server.NoDelay = true;
        var echo = Task.Run(async () =>
        {
            var stream = server.GetStream();
            var b = new byte[1];
            while (await stream.ReadAsync(b).ConfigureAwait(false) == 1)
            {
                await stream.WriteAsync(b).ConfigureAwait(false);
            }
        });
        var s = client.GetStream();
        var buffer = new byte[1];
        var samples = new double[count];
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await s.WriteAsync(buffer).ConfigureAwait(false);
            await s.ReadExactlyAsync(buffer).ConfigureAwait(false);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        client.Close();
        await echo.ConfigureAwait(false);
        return Percentiles(samples);
    }

    private static (double Median, double P99) Percentiles(double[] samples)
    {
        var sorted = samples.Order().ToArray();
        return (sorted[sorted.Length / 2], sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * 0.99))]);
    }
}
