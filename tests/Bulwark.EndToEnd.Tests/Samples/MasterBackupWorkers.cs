using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.Server.Hosting;
using Bulwark.TestSupport;
using Grpc.Net.Client;

namespace Bulwark.EndToEnd.Tests.Samples;

/// <summary>What a worker's GET /status answers.</summary>
internal sealed record WorkerStatus(
    [property: JsonPropertyName("instance")] string Instance,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("isLeader")] bool IsLeader,
    [property: JsonPropertyName("token")] long? Token,
    [property: JsonPropertyName("lastN")] long? LastN);

/// <summary>
/// Three (or more) real MasterBackup worker processes (`dotnet MasterBackup.Worker.dll`) on loopback ports, named
/// w1, w2, ..., against one cluster's endpoints; and optionally the router. Each child's output is kept with the time
/// it was read. Starting and SIGKILL are <see cref="NodeProcesses"/>'; SIGSTOP/SIGCONT are <see cref="Signals"/>'.
/// </summary>
internal sealed partial class MasterBackupWorkers : IAsyncDisposable
{
    public const string Prefix = "records/";

    private readonly NodeProcesses processes;
    private readonly StringBuilder[] output;
    private readonly string[] workerArgs;
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(2) };

    private MasterBackupWorkers(int count, string endpoints, int ttlSeconds, bool releaseOnDisconnect, int intervalMs, bool router)
    {
        var size = count + (router ? 1 : 0);
        var ports = LoopbackPorts.Take(size);
        Urls = ports.Select(p => $"http://127.0.0.1:{p}").ToArray();
        Names = Enumerable.Range(1, count).Select(i => $"w{i}").Concat(router ? ["router"] : []).ToArray();
        Count = count;
        Endpoints = endpoints;
        processes = new NodeProcesses(Names, Urls, u => GrpcChannel.ForAddress(u));
        output = Names.Select(_ => new StringBuilder()).ToArray();
        workerArgs =
        [
            "--endpoints", endpoints, "--prefix", Prefix, "--ttl-seconds", ttlSeconds.ToString(CultureInfo.InvariantCulture),
            "--release-on-disconnect", releaseOnDisconnect ? "true" : "false", "--interval-ms", intervalMs.ToString(CultureInfo.InvariantCulture),
        ];
    }

    public int Count { get; }

    public string Endpoints { get; }

    public IReadOnlyList<string> Names { get; }

    /// <summary>Each worker's URL (its election value), then the router's when there is one.</summary>
    public IReadOnlyList<string> Urls { get; }

    public string RouterUrl => Urls[Count];

    /// <summary>Starts <paramref name="count"/> workers (and the router when asked) against <paramref name="endpoints"/>.</summary>
    public static MasterBackupWorkers Start(int count, string endpoints, int ttlSeconds, bool releaseOnDisconnect, int intervalMs = 100, bool router = false)
    {
        var workers = new MasterBackupWorkers(count, endpoints, ttlSeconds, releaseOnDisconnect, intervalMs, router);
        for (var i = 0; i < count; i++)
        {
            workers.StartWorker(i);
        }

        if (router)
        {
            workers.StartProcess(count, [SampleBinaries.RouterDll, "--url", workers.RouterUrl, "--endpoints", endpoints]);
        }

        return workers;
    }

    public void StartWorker(int i) =>
        StartProcess(i, [SampleBinaries.WorkerDll, "--url", Urls[i], "--instance", Names[i], .. workerArgs]);

    public bool IsRunning(int i) => processes.IsRunning(i);

    /// <summary>SIGKILL to worker <paramref name="i"/>: no shutdown, no resignation.</summary>
    public Task KillAsync(int i) => processes.KillAsync(i, ProcessCluster.Patience);

    /// <summary>SIGKILLs every worker and the router, so what they wrote and logged is final (the audit reads both).</summary>
    public async Task KillAllAsync()
    {
        for (var i = 0; i < Names.Count; i++)
        {
            if (processes.Pid(i) is { } pid && processes.IsRunning(i))
            {
                Signals.Continue(pid);
            }

            await processes.KillAsync(i, ProcessCluster.Patience).ConfigureAwait(false);
        }
    }

    /// <summary>SIGTERM to worker <paramref name="i"/> (a graceful host shutdown); waits until it has exited.</summary>
    public async Task TerminateAsync(int i)
    {
        Signals.Terminate(processes.Pid(i) ?? throw new InvalidOperationException($"{Names[i]} is not running"));
        await Eventually.TrueAsync(() => !processes.IsRunning(i), $"{Names[i]} to exit after SIGTERM", diagnostics: Logs).ConfigureAwait(false);
    }

    public void Pause(int i) => Signals.Stop(processes.Pid(i) ?? throw new InvalidOperationException($"{Names[i]} is not running"));

    public void Resume(int i) => Signals.Continue(processes.Pid(i) ?? throw new InvalidOperationException($"{Names[i]} is not running"));

    /// <summary>Worker <paramref name="i"/>'s status, or null when it does not answer (not up yet, paused, dead).</summary>
    public async Task<WorkerStatus?> TryStatusAsync(int i)
    {
        if (!processes.IsRunning(i))
        {
            return null;
        }

        try
        {
            return await http.GetFromJsonAsync<WorkerStatus>(new Uri(Urls[i] + "/status")).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    public async Task<HttpResponseMessage> PostRecordAsync(string baseUrl) =>
        await http.PostAsync(new Uri(baseUrl + "/records"), content: null).ConfigureAwait(false);

    /// <summary>
    /// Waits until one worker other than <paramref name="not"/> reports it is master and none other (of those that
    /// answer) says so too; returns its index.
    /// </summary>
    public async Task<int> WaitForMasterAsync(int? not = null, TimeSpan? patience = null)
    {
        var found = await Eventually.ValueAsync(
            async () =>
            {
                var leaders = new List<int>();
                for (var i = 0; i < Count; i++)
                {
                    if (i != not && await TryStatusAsync(i).ConfigureAwait(false) is { IsLeader: true })
                    {
                        leaders.Add(i);
                    }
                }

                return leaders.Count == 1 ? (object)leaders[0] : null;
            },
            not is null ? "one worker to report it is master" : $"a worker other than {Names[not.Value]} to report it is master",
            patience,
            diagnostics: Logs).ConfigureAwait(false);
        return (int)found;
    }

    /// <summary>
    /// Waits until the records reach number <paramref name="n"/>, whoever writes them (a loaded machine may move the
    /// leadership meanwhile): some worker's status says it wrote or read that far.
    /// </summary>
    public Task WaitForRecordAsync(long n) => Eventually.TrueAsync(
        async () =>
        {
            for (var i = 0; i < Count; i++)
            {
                if (await TryStatusAsync(i).ConfigureAwait(false) is { LastN: { } last } && last >= n)
                {
                    return true;
                }
            }

            return false;
        },
        $"the records to reach {n}",
        diagnostics: Logs);

    /// <summary>
    /// Every leadership the workers logged: token -> instance, from the "master {instance}: token {token}" lines.
    /// Throws when two instances logged the same token (a token identifies one leadership).
    /// </summary>
    public IReadOnlyDictionary<long, string> Holders()
    {
        var holders = new Dictionary<long, string>();
        for (var i = 0; i < Count; i++)
        {
            foreach (Match match in MasterLine().Matches(Output(i)))
            {
                var instance = match.Groups["instance"].Value;
                var token = long.Parse(match.Groups["token"].Value, CultureInfo.InvariantCulture);
                if (holders.TryGetValue(token, out var other) && other != instance)
                {
                    throw new InvalidOperationException($"token {token} was logged as won by {other} and by {instance}");
                }

                holders[token] = instance;
            }
        }

        return holders;
    }

    /// <summary>When worker <paramref name="i"/> logged winning a leadership, as unix milliseconds (the hosting library's line).</summary>
    public IReadOnlyList<long> WinTimes(int i) =>
        WonLine().Matches(Output(i)).Select(m => long.Parse(m.Groups["ms"].Value, CultureInfo.InvariantCulture)).ToList();

    /// <summary>Everything worker (or router) <paramref name="i"/> printed so far, across its runs.</summary>
    public string Output(int i)
    {
        lock (output[i])
        {
            return output[i].ToString();
        }
    }

    public string Logs()
    {
        var text = new StringBuilder();
        for (var i = 0; i < Names.Count; i++)
        {
            var log = Output(i);
            text.AppendLine($"===== {Names[i]} ({Urls[i]}) =====").AppendLine(log.Length > 20_000 ? "..." + log[^20_000..] : log);
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        // A paused child cannot die of SIGKILL's cleanup until it runs again; SIGKILL works on stopped processes, but
        // resume anyway so nothing is left frozen if the kill fails.
        for (var i = 0; i < Names.Count; i++)
        {
            if (processes.Pid(i) is { } pid && processes.IsRunning(i))
            {
                try
                {
                    Signals.Continue(pid);
                }
                catch (InvalidOperationException)
                {
                    // already gone
                }
            }
        }

        await processes.DisposeAsync().ConfigureAwait(false);
        http.Dispose();
    }

    private void StartProcess(int i, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(ProcessCluster.DotnetHost);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var log = output[i];
        processes.Start(i, info, (stream, line) => Append(log, stream, line), () => Append(log, "exit", "process exited"));
    }

    private static void Append(StringBuilder log, string stream, string line)
    {
        lock (log)
        {
            log.Append(DateTime.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)).Append(' ').Append(stream).Append(": ").AppendLine(line);
        }
    }

    [GeneratedRegex(@"master (?<instance>\S+): token (?<token>\d+), last record")]
    private static partial Regex MasterLine();

    [GeneratedRegex(@"won leadership as .* at unix-ms (?<ms>\d+)")]
    private static partial Regex WonLine();
}
