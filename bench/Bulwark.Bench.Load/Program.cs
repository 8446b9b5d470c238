using Grpc.Core;
using Bulwark.Bench.Load;

if (args.Length == 0 || args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(LoadArguments.Usage);
    return args.Length == 0 ? 2 : 0;
}

LoadArguments.Parsed parsed;
try
{
    parsed = LoadArguments.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"bulwark-load: {e.Message}");
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

using var runner = new LoadRunner(parsed.Options);
try
{
    await runner.ConnectAsync(stop.Token);
}
catch (RpcException e)
{
    Console.Error.WriteLine($"bulwark-load: cannot reach {string.Join(',', parsed.Options.Endpoints)}: {e.Status.StatusCode} {e.Status.Detail}");
    return 3;
}

if (parsed.Options.Preload)
{
    await runner.PreloadAsync(stop.Token);
}

if (parsed.Warmup > TimeSpan.Zero)
{
    await runner.RunPhaseAsync(parsed.Warmup, null, stop.Token);
}

var result = await runner.RunPhaseAsync(parsed.Options.Duration, parsed.Options.TotalOps, stop.Token);
var json = ResultFormat.ToJson(result);
if (parsed.JsonPath == "-")
{
    Console.WriteLine(json);
}
else
{
    Console.Write(ResultFormat.Table([result]));
    if (parsed.JsonPath is { } path)
    {
        await File.WriteAllTextAsync(path, json + Environment.NewLine);
    }
}

return result.Errors > 0 ? 1 : 0;
