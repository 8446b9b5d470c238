using System.CommandLine;
using System.Runtime.InteropServices;
using Bulwark.Server;
using Bulwark.Server.Configuration;
using Bulwark.Server.Admin;
using Bulwark.Server.Hosting;
using Bulwark.Server.Observability;
using Bulwark.Server.Security;
using Bulwark.Storage;
using Microsoft.Extensions.Logging;

namespace Bulwark.Cli.Commands;

/// <summary>
/// `bulwark serve`: runs one node: loads settings (JSON file, BULWARK_* environment, flags), opens the client API and
/// admin ports (answering "catching up" meanwhile), then opens the data dir and starts the peer transport and the node
/// loop, and serves the etcd v3 gRPC API once the node has started; logs JSON lines to stdout (each naming the
/// member, host and pid; `--log-format text` for people), and stops cleanly
/// on SIGTERM or Ctrl-C. Exit codes: 0 clean stop, 2 bad configuration, 3 corrupt storage, 1 other start failure (a
/// member that cannot join included), 4 removed from the cluster, 70 fail-stop while running.
/// With --initial-cluster-state existing and an empty data dir the node first joins (<see cref="ClusterJoin"/>).
/// </summary>
public static class ServeCommand
{
    public const int ExitBadConfiguration = 2;
    public const int ExitCorruptStorage = 3;
    public const int ExitStartFailed = 1;
    public const int ExitFailStop = 70;

    /// <summary>The member was removed from the cluster (etcd: "the member has been permanently removed from the
    /// cluster"): restarting it cannot help.</summary>
    public const int ExitRemoved = 4;

    public static Command Create()
    {
        var settings = string.Join(Environment.NewLine, NodeSettings.All.Select(s => $"  {s.Flag,-26} {s.Description} (default {s.Default}; env {s.EnvironmentVariable})"));
        var command = new Command("serve", "Run one Bulwark node serving the etcd v3 API." + Environment.NewLine + "Settings:" + Environment.NewLine + settings)
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction((parse, cancellation) => RunAsync(parse.UnmatchedTokens, cancellation));
        return command;
    }

    /// <summary>Runs a node until it is asked to stop (returns 0) or stops itself (returns non-zero).</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        NodeOptions options;
        bool textLogs;
        string? corruptMember;
        string? corruptKey;
        TlsCredentials? clientTls;
        TlsCredentials? peerTls;
        Bulwark.Kv.Auth.JwtTokens? jwt;
        try
        {
            (args, textLogs) = LogFormatOption.Extract(args);
            (args, corruptMember, corruptKey) = TestOnlyCorruption.Extract(args);
            options = NodeConfigurationLoader.Load(args);
            clientTls = options.ClientTls is { } client ? TlsCredentials.Load(client) : null;
            peerTls = options.PeerTls is { } peer ? TlsCredentials.Load(peer) : null;
            jwt = options.AuthToken is { } authToken ? JwtKeyFiles.Load(authToken) : null;
        }
        catch (Exception e) when (e is ConfigurationException or ArgumentException or CertificateFileException)
        {
            await Console.Error.WriteLineAsync($"bulwark serve: {e.Message}").ConfigureAwait(false);
            return ExitBadConfiguration;
        }

        Action<ILoggingBuilder> configureLogging = logging => LogFormatOption.Configure(logging, textLogs, options.Name);
        using var loggers = LoggerFactory.Create(configureLogging);
        var logger = loggers.CreateLogger("Bulwark.Serve");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

        try
        {
            options = await JoinIfNeededAsync(options, peerTls, logger, stop.Token).ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            ServeLog.JoinFailed(logger, e.Message);
            return ExitStartFailed;
        }
        catch (InvalidDataException e)
        {
            ServeLog.StartFailed(logger, e.Message, e);
            return ExitCorruptStorage;
        }
        catch (OperationCanceledException)
        {
            return 0;
        }

        // Without the flag nothing of fault injection is constructed: the real file system and clock are used directly.
        Bulwark.Server.Faults.FaultInjection? faults = null;
        if (options.UnsafeFaultInjection)
        {
            faults = new Bulwark.Server.Faults.FaultInjection(Bulwark.Storage.FileSystem.RealFileSystem.Instance);
            ServeLog.FaultInjectionOn(logger, FaultEndpoints.Path);
        }

        var observability = new NodeObservability(options.NodeId, options.InitialCluster, options.DataDir, options.HeartbeatInterval, options.ElectionTimeout, loggers);
        await using var observabilityScope = observability.ConfigureAwait(false);
        var hostOptions = options.ToHostOptions() with
        {
            PeerTls = peerTls,
            Jwt = jwt,
            Observer = observability,
            TestOnlyCorruptKey = corruptMember == options.Name ? System.Text.Encoding.UTF8.GetBytes(corruptKey!) : null,
        };

        // The client and admin ports open first, before storage open and log replay: a client that had a connection to
        // this member (one killed and restarted) reaches it at its first reconnect attempt and is told "catching up"
        // (so it tries another member) instead of backing off for seconds while the port is closed (docs/benchmarks.md,
        // "Rejoin of a killed follower"). Health says "node not started" until the node runs.
        var slot = new NodeSlot(hostOptions);
        Microsoft.AspNetCore.Builder.WebApplication app;
        Microsoft.AspNetCore.Builder.WebApplication admin;
        try
        {
            app = ServerHost.Build(slot, options.ListenClientUrls, configureLogging, clientTls);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            ServeLog.StartFailed(logger, $"client API on {string.Join(",", options.ListenClientUrls)}: {e.Message}", e);
            return ExitStartFailed;
        }

        await using (app.ConfigureAwait(false))
        {
            try
            {
                await app.StartAsync(stop.Token).ConfigureAwait(false);
                admin = AdminServer.Build(observability, options.ListenMetricsUrl, configureLogging, faults, clientTls);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or FormatException or InvalidOperationException or ArgumentException)
            {
                ServeLog.StartFailed(logger, $"client API on {string.Join(",", options.ListenClientUrls)} or admin endpoint on {options.ListenMetricsUrl}: {e.Message}", e);
                return ExitStartFailed;
            }

            await using (admin.ConfigureAwait(false))
            {
                try
                {
                    await admin.StartAsync(stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException)
                {
                    ServeLog.StartFailed(logger, $"admin endpoint on {options.ListenMetricsUrl}: {e.Message}", e);
                    return ExitStartFailed;
                }

                ServeLog.ClientApiListening(logger, string.Join(",", options.ListenClientUrls), options.ListenMetricsUrl);
                return await RunNodeAsync(options, hostOptions, slot, [app, admin], observability, faults, clientTls, loggers, logger, stop.Token).ConfigureAwait(false);
            }
        }

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
    }

    /// <summary>
    /// Starts the node (storage open, log replay, peer transport) behind the already listening client API, hands it to
    /// <paramref name="slot"/> and runs until asked to stop or the node stops itself. A node that cannot start ends the
    /// process with the same exit code and log event as when the client port opened after it.
    /// </summary>
    private static async Task<int> RunNodeAsync(NodeOptions options, NodeHostOptions hostOptions, NodeSlot slot, IReadOnlyList<Microsoft.AspNetCore.Builder.WebApplication> listeners,
        NodeObservability observability, Bulwark.Server.Faults.FaultInjection? faults, TlsCredentials? clientTls, ILoggerFactory loggers, ILogger logger,
        CancellationToken stopToken)
    {
        NodeHost node;
        try
        {
            node = NodeHost.Start(hostOptions, loggers, faults?.Clock, faults?.FileSystem);
        }
        catch (StorageCorruptionException e)
        {
            ServeLog.Corrupt(logger, e.FilePath, e.Offset, e.Reason);
            return ExitCorruptStorage;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ArgumentException or StorageException)
        {
            ServeLog.StartFailed(logger, e.Message, e);
            return ExitStartFailed;
        }

        await using (node.ConfigureAwait(false))
        {
            slot.Fill(node);
            observability.Attach(node);
            using var peerHashes = new PeerHashClient(clientTls);
            var corruptionCheck = new CorruptionCheck(node, options.CorruptCheckTime, peerHashes, loggers.CreateLogger<CorruptionCheck>());
            corruptionCheck.Start();
            await using (corruptionCheck.ConfigureAwait(false))
            {
                ServeLog.Serving(logger, options.Name, options.NodeId, string.Join(",", options.ListenClientUrls), options.ListenPeerUrl, Path.GetFullPath(options.DataDir));
                var stopped = Task.Delay(Timeout.Infinite, stopToken);
                await Task.WhenAny(node.Completion, stopped).ConfigureAwait(false);
                if (node.Completion.Exception?.InnerException is NodeFailStopException { InnerException: MemberRemovedException removed })
                {
                    ServeLog.RemovedExit(logger, ExitRemoved, removed.How);
                    await StopListenersAsync(listeners, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
                    return ExitRemoved;
                }

                if (node.Completion.IsFaulted)
                {
                    var reason = node.Completion.Exception?.InnerException?.Message ?? "unknown";
                    ServeLog.FailStopExit(logger, ExitFailStop, reason);
                    await StopListenersAsync(listeners, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
                    return ExitFailStop;
                }

                ServeLog.ShuttingDown(logger);
                await StopListenersAsync(listeners, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
        }

        return 0;
    }

    /// <summary>Stops the client API and the admin listener (in that order) before the node is disposed, as before the
    /// listeners opened ahead of the node: no call reaches a node that is shutting down.</summary>
    private static async Task StopListenersAsync(IReadOnlyList<Microsoft.AspNetCore.Builder.WebApplication> listeners, TimeSpan grace)
    {
        using var deadline = new CancellationTokenSource(grace);
        foreach (var listener in listeners)
        {
            await listener.StopAsync(deadline.Token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A member that joined before restarts as itself (its <see cref="JoinedIdentity"/> in the data dir); one started with
    /// --initial-cluster-state existing on an empty data dir asks the members in --initial-cluster who it is first (etcd's
    /// join); otherwise (a founding member, or a data dir with state) the options stay as they are.
    /// </summary>
    private static async Task<NodeOptions> JoinIfNeededAsync(NodeOptions options, TlsCredentials? peerTls, ILogger logger, CancellationToken cancellationToken)
    {
        if (ClusterJoin.Load(options.DataDir) is { } joined)
        {
            return options.JoinedAs(joined);
        }

        if (options.InitialClusterState != InitialClusterState.Existing || ClusterJoin.HoldsState(options.DataDir))
        {
            return options;
        }

        var others = options.InitialCluster.Where(m => m.Id != options.NodeId).Select(m => m.PeerUrls[0]).ToList();
        var identity = await ClusterJoin.DiscoverAsync(options.Self.PeerUrls[0], others, ClusterJoin.DefaultPatience, logger, cancellationToken, peerTls).ConfigureAwait(false);
        ClusterJoin.Save(options.DataDir, identity);
        return options.JoinedAs(identity);
    }
}
