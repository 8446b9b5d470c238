using System.CommandLine;
using System.Runtime.InteropServices;
using Bulwark.Cli.Supervision;
using Bulwark.Server.Security;

namespace Bulwark.Cli.Commands;

/// <summary>`bulwark cluster up`: a local 3-member cluster as child processes, supervised.</summary>
public static class ClusterCommands
{
    public static Command Create()
    {
        var command = new Command("cluster", "Run a local cluster on this machine.");
        command.Subcommands.Add(CreateUp());
        return command;
    }

    private static Command CreateUp()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "Root of the members' data directories (one per member).", DefaultValueFactory = _ => "bulwark-data" };
        var basePort = new Option<int?>("--base-port") { Description = "Member i listens on base+3i (client), +1 (peer), +2 (metrics); 0 picks free ports. Default: 2379/22379/32379 etc." };
        var size = new Option<int>("--size") { Description = "Number of members (1 to 5).", DefaultValueFactory = _ => ClusterLayout.DefaultSize };
        var grace = new Option<double>("--grace-period") { Description = "Seconds a member may take to stop after SIGTERM before it is killed.", DefaultValueFactory = _ => 10 };
        var maxCrashes = new Option<int>("--max-crashes") { Description = "Crashes within --crash-window after which a member is not restarted.", DefaultValueFactory = _ => 5 };
        var crashWindow = new Option<double>("--crash-window") { Description = "Seconds over which crashes are counted.", DefaultValueFactory = _ => 60 };
        var logFormat = new Option<string>("--log-format")
        {
            Description = "The members' log lines: json (ECS JSON lines naming their member, forwarded as is) or text (readable, prefixed with [name]). The supervisor's own lines are always text.",
            DefaultValueFactory = _ => "json",
        };
        logFormat.AcceptOnlyFromAmong("json", "text");
        var tls = new Option<bool>("--tls")
        {
            Description = "Serve client and peer ports over mutual TLS with a throwaway CA and certificates (SANs 127.0.0.1 and localhost) " +
                "generated under <data-dir>/tls (kept for later runs), and print the etcdctl flags that use them.",
        };
        var up = new Command("up", "Start a local cluster (3 members on loopback) and supervise it until Ctrl-C.")
        {
            dataDir, basePort, size, grace, maxCrashes, crashWindow, logFormat, tls,
        };

        // Synchronous on purpose: the supervisor handles SIGINT/SIGTERM itself so the grace period is honoured
        // (System.CommandLine would end an async invocation 2 s after the signal).
        up.SetAction(parse =>
        {
            var root = Path.GetFullPath(parse.GetValue(dataDir)!);
            var layout = parse.GetValue(basePort) is { } port
                ? ClusterLayout.FromBasePort(port, root, parse.GetValue(size))
                : ClusterLayout.Default(root, parse.GetValue(size));
            if (parse.GetValue(tls))
            {
                var certificates = new LocalClusterCertificates(Path.Combine(root, "tls"));
                layout = layout.WithTls(certificates.Exist ? certificates : certificates.Generate());
            }

            var options = new SupervisorOptions
            {
                GracePeriod = TimeSpan.FromSeconds(parse.GetValue(grace)),
                Restart = new RestartPolicyOptions
                {
                    CrashLoopLimit = parse.GetValue(maxCrashes),
                    CrashLoopWindow = TimeSpan.FromSeconds(parse.GetValue(crashWindow)),
                },
            };
            var textLogs = parse.GetValue(logFormat) == "text";
            return RunUp(layout, ChildCommand.ServeChildren(layout, textLogs), options, parse.InvocationConfiguration.Output);
        });
        return up;
    }

    private static int RunUp(ClusterLayout layout, IReadOnlyList<ChildSpec> children, SupervisorOptions options, TextWriter output)
    {
        foreach (var member in layout.Members)
        {
            Directory.CreateDirectory(member.DataDir);
        }

        output.WriteLine($"starting a {layout.Members.Count}-member cluster; data under {Path.GetDirectoryName(layout.Members[0].DataDir)}");
        foreach (var member in layout.Members)
        {
            output.WriteLine($"  {member.Name}: client {member.ClientUrl}  peer {member.PeerUrl}  metrics {member.MetricsUrl}");
        }

        output.WriteLine($"client endpoints: {layout.ClientEndpoints}");
        if (layout.Certificates is { } tls)
        {
            output.WriteLine($"TLS: certificates under {tls.Directory} (throwaway CA {tls.CaFile}); clients must present a certificate");
            output.WriteLine($"  etcdctl flags: --endpoints={layout.ClientEndpoints} {tls.EtcdctlFlags}");
            output.WriteLine($"  try: etcdctl --endpoints={layout.ClientEndpoints} {tls.EtcdctlFlags} put hello world");
            output.WriteLine($"  or:  bulwark get hello --endpoints={layout.ClientEndpoints} {tls.EtcdctlFlags}");
        }
        else
        {
            output.WriteLine($"  try: etcdctl --endpoints={layout.ClientEndpoints} put hello world");
        }

        output.WriteLine("press Ctrl-C to stop the cluster");

        using var stopping = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // keep running until the children are stopped
            stopping.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        var supervisor = new ClusterSupervisor(children, options, TimeProvider.System, output);
        return supervisor.RunAsync(stopping.Token).GetAwaiter().GetResult();
    }
}
