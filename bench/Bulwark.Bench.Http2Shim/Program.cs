using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using Bulwark.Bench.Http2Shim;
using Bulwark.Server.Api.Http2;

// Usage: dotnet bench/Bulwark.Bench.Http2Shim/bin/Release/net10.0/Bulwark.Bench.Http2Shim.dll [calls per round] [rounds]
// One connection per round: the client preface, SETTINGS, then [calls] unary calls (HEADERS + DATA), each written as
// the client writes it and read back the way Kestrel reads (whole frames, advancing past them). Each case runs
// through a plain pipe (what Kestrel reads without the shim) and through the shim, interleaved round by round; the
// difference is the shim's cost. CPU time of the process (workstation, non-concurrent GC: this thread's work and
// its collections) is reported, not wall time, because the machine is shared; allocations are this thread's.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var calls = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 50_000;
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 7;

var cases = new (string Name, string Authority, bool Go, int MessageBytes)[]
{
    ("grpc-dotnet put (plain literals, no Huffman), 100 B message", "127.0.0.1:2379", false, 100),
    ("grpc-go/etcdctl put (Huffman, dynamic table), 100 B message", "127.0.0.1:2379", true, 100),
    ("grpc-go/etcdctl put, 64 KiB message (4 DATA frames)", "127.0.0.1:2379", true, 64 * 1024),
    ("etcdctl per-endpoint call: :authority http://127.0.0.1:2379", "http://127.0.0.1:2379", true, 100),
};

Console.WriteLine($"HTTP/2 authority shim: {calls} calls per connection, {rounds} rounds per side (medians), {Environment.ProcessorCount} cores, load average {LoadAverage()}");
Console.WriteLine();
Console.WriteLine("| case | plain pipe: CPU ns/call | with shim: CPU ns/call | shim's cost: CPU ns/call | plain: B allocated/call | shim: B allocated/call |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|");
foreach (var (name, authority, go, messageBytes) in cases)
{
    var connection = Connection(authority, go, messageBytes, calls);
    Run(connection, shim: false);
    Run(connection, shim: true); // JIT warm-up of both paths
    var plain = new List<(double Cpu, double Bytes)>();
    var shimmed = new List<(double Cpu, double Bytes)>();
    for (var r = 0; r < rounds; r++)
    {
        plain.Add(Run(connection, shim: false));
        shimmed.Add(Run(connection, shim: true));
    }

    var plainCpu = Median(plain.Select(p => p.Cpu));
    var shimCpu = Median(shimmed.Select(p => p.Cpu));
    Console.WriteLine($"| {name} | {plainCpu:F0} | {shimCpu:F0} | {shimCpu - plainCpu:F0} | {Median(plain.Select(p => p.Bytes)):F0} | {Median(shimmed.Select(p => p.Bytes)):F0} |");
}

Console.WriteLine();
Console.WriteLine($"load average at the end: {LoadAverage()}");
return;

static List<byte[]> Connection(string authority, bool go, int messageBytes, int calls)
{
    var start = new List<byte>(Http2Frame.ClientPreface.ToArray());
    ClientCalls.AddFrame(start, 0x4, 0, 0, new byte[12]); // SETTINGS
    var client = new ClientCalls(authority, go, messageBytes);
    var writes = new List<byte[]> { start.ToArray() };
    for (var i = 0; i < calls; i++)
    {
        writes.Add(client.Next());
    }

    return writes;
}

/// <summary>One connection's writes through a pipe, read as Kestrel reads; CPU ns and bytes allocated per call.</summary>
static (double Cpu, double Bytes) Run(List<byte[]> writes, bool shim)
{
    var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
    var reader = shim ? ShimEntry.Wrap(pipe.Reader) : pipe.Reader;
    GC.Collect();
    var process = Process.GetCurrentProcess();
    var cpuStart = process.TotalProcessorTime;
    var allocatedStart = GC.GetAllocatedBytesForCurrentThread();
    var prefaceRead = false;
    for (var w = 0; w < writes.Count; w++)
    {
        var write = writes[w];
        pipe.Writer.Write(write);
        var flush = pipe.Writer.FlushAsync();
        if (!flush.IsCompleted)
        {
            throw new InvalidOperationException("flush did not complete synchronously");
        }

        var ended = w == 0; // the preface and SETTINGS are read with the first call
        while (!ended)
        {
            var read = reader.ReadAsync();
            if (!read.IsCompleted)
            {
                throw new InvalidOperationException("the reader held back a complete call");
            }

            var buffer = read.Result.Buffer;
            if (!prefaceRead)
            {
                buffer = buffer.Slice(Http2Frame.ClientPreface.Length);
                prefaceRead = true;
            }

            while (buffer.Length >= Http2Frame.HeaderLength)
            {
                var header = Http2Frame.Header.Parse(buffer, 0);
                if (buffer.Length < Http2Frame.HeaderLength + header.Length)
                {
                    break;
                }

                ended |= header.Type == 0x0 && (header.Flags & Http2Frame.FlagEndStream) != 0;
                buffer = buffer.Slice(Http2Frame.HeaderLength + header.Length);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }

    }

    process.Refresh();
    var cpu = (process.TotalProcessorTime - cpuStart).TotalNanoseconds;
    var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedStart;
    pipe.Writer.Complete();
    reader.Complete();
    var callCount = writes.Count - 1;
    return (cpu / callCount, (double)allocated / callCount);
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted[sorted.Length / 2];
}

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
