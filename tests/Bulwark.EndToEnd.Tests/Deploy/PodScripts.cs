using Bulwark.Server.Tests.Observability;

namespace Bulwark.EndToEnd.Tests.Deploy;

/// <summary>
/// Runs deploy/kubernetes' entrypoint.sh and prestop.sh with /bin/sh as a pod would, in a sandbox: the data volume is
/// a temporary folder, `bulwark` records the command line and BULWARK_* variables it was started with, `etcdctl` keeps
/// a member list and answers member list/add/remove/promote in etcdctl 3.4's output format, and `curl` answers the
/// StatefulSet's scale subresource with the size the test sets.
/// </summary>
internal sealed class PodScripts : IDisposable
{
    private const string FakeBulwark = """
        #!/bin/sh
        printf '%s\n' "$@" > "$SANDBOX/bulwark.args"
        env | grep '^BULWARK_' | sort > "$SANDBOX/bulwark.env"
        """;

    // Lines as etcdctl 3.4 prints them: "ID, started|unstarted, NAME, PEER-URLS, CLIENT-URLS, IS-LEARNER".
    private const string FakeEtcdctl = """
        #!/bin/sh
        echo "$*" >> "$SANDBOX/etcdctl.log"
        shift
        members="$SANDBOX/members"
        case "$1 $2" in
          "member list") cat "$members" ;;
          "member add")
            name=$3; peer=""; learner=false
            for a in "$@"; do case "$a" in --peer-urls=*) peer=${a#--peer-urls=} ;; --learner) learner=true ;; esac; done
            id=$(printf '%x' $(( $(wc -l < "$members") + 0xa0 )))
            echo "$id, unstarted, , $peer, , $learner" >> "$members"
            cluster=$(awk -F', ' '$3 != "" { printf "%s=%s,", $3, $4 }' "$members")
            echo "Member $id added to cluster c0ffee"; echo
            echo "ETCD_NAME=\"$name\""
            echo "ETCD_INITIAL_CLUSTER=\"$cluster$name=$peer\""
            echo "ETCD_INITIAL_ADVERTISE_PEER_URLS=\"$peer\""
            echo "ETCD_INITIAL_CLUSTER_STATE=\"existing\"" ;;
          "member remove")
            grep -v "^$3, " "$members" > "$members.new"; mv "$members.new" "$members"
            echo "Member $3 removed from cluster c0ffee" ;;
          "member promote")
            if [ -e "$SANDBOX/refuse-promote" ]; then
              echo "Error: etcdserver: can only promote a learner member which is in sync with leader" >&2; exit 1
            fi
            sed -i "s/^\($3, .*\), true$/\1, false/" "$members"
            echo "Member $3 promoted in cluster c0ffee" ;;
          *) echo "fake etcdctl: unexpected $*" >&2; exit 2 ;;
        esac
        """;

    private const string FakeCurl = """
        #!/bin/sh
        echo "$*" >> "$SANDBOX/curl.log"
        cat "$SANDBOX/scale.json"
        """;

    public PodScripts(int foundingMembers)
    {
        Dir = Directory.CreateTempSubdirectory("bulwark-pod-").FullName;
        Directory.CreateDirectory(Path.Combine(Dir, "bin"));
        Directory.CreateDirectory(Path.Combine(Dir, "account"));
        Directory.CreateDirectory(Volume);
        File.WriteAllText(Path.Combine(Dir, "account", "token"), "token");
        File.WriteAllText(Path.Combine(Dir, "account", "ca.crt"), "ca");
        Write("bulwark", FakeBulwark);
        Write("etcdctl", FakeEtcdctl);
        Write("curl", FakeCurl);
        var lines = Enumerable.Range(0, foundingMembers).Select(i =>
            $"{i + 1:x}, started, bulwark-{i}, {PeerUrl(i)}, http://bulwark-{i}.bulwark-peer.{Namespace}.svc.cluster.local:2379, false");
        File.WriteAllLines(Path.Combine(Dir, "members"), lines);
        SetReplicas(foundingMembers);
    }

    public const string Namespace = "kv";

    public string Dir { get; }

    /// <summary>The pod's data volume (mounted at /var/lib/bulwark in the StatefulSet).</summary>
    public string Volume => Path.Combine(Dir, "volume");

    public string DataDir => Path.Combine(Volume, "data");

    public static string PeerUrl(int ordinal) => $"http://bulwark-{ordinal}.bulwark-peer.{Namespace}.svc.cluster.local:2380";

    public IReadOnlyList<string> Members => File.ReadAllLines(Path.Combine(Dir, "members"));

    public IReadOnlyList<string> EtcdctlCalls => File.Exists(Path.Combine(Dir, "etcdctl.log")) ? File.ReadAllLines(Path.Combine(Dir, "etcdctl.log")) : [];

    /// <summary>The `bulwark` command line of the last start (without the program), or null if it was not started.</summary>
    public IReadOnlyList<string>? BulwarkArgs => File.Exists(Path.Combine(Dir, "bulwark.args")) ? File.ReadAllLines(Path.Combine(Dir, "bulwark.args")) : null;

    public void SetReplicas(int replicas) => File.WriteAllText(Path.Combine(Dir, "scale.json"),
        "{\"kind\":\"Scale\",\"apiVersion\":\"autoscaling/v1\",\"metadata\":{\"name\":\"bulwark\",\"namespace\":\"" + Namespace +
        "\"},\"spec\":{\"replicas\":" + replicas.ToString(System.Globalization.CultureInfo.InvariantCulture) +
        "},\"status\":{\"replicas\":" + replicas.ToString(System.Globalization.CultureInfo.InvariantCulture) + ",\"selector\":\"app.kubernetes.io/name=bulwark\"}}");

    public void RefusePromotion(bool refuse)
    {
        var path = Path.Combine(Dir, "refuse-promote");
        if (refuse)
        {
            File.WriteAllText(path, "");
        }
        else
        {
            File.Delete(path);
        }
    }

    /// <summary>Runs a script of deploy/kubernetes as pod <paramref name="pod"/> with the StatefulSet's environment.</summary>
    /// <param name="overrides">Set last (e.g. the real etcdctl and a cluster endpoint instead of the fakes).</param>
    public async Task<(int Exit, string Stderr)> RunAsync(string script, string pod, IReadOnlyDictionary<string, string> podEnvironment, IReadOnlyDictionary<string, string>? overrides = null)
    {
        File.Delete(Path.Combine(Dir, "bulwark.args"));
        var environment = new Dictionary<string, string>(podEnvironment, StringComparer.Ordinal)
        {
            ["POD_NAME"] = pod,
            ["POD_NAMESPACE"] = Namespace,
            ["BULWARK_DATA_DIR"] = DataDir,
            ["BULWARK_BIN"] = Path.Combine(Dir, "bin", "bulwark"),
            ["ETCDCTL_BIN"] = Path.Combine(Dir, "bin", "etcdctl"),
            ["CURL_BIN"] = Path.Combine(Dir, "bin", "curl"),
            ["SERVICE_ACCOUNT_DIR"] = Path.Combine(Dir, "account"),
            ["PROMOTE_INTERVAL_SECONDS"] = "0.2",
            ["SANDBOX"] = Dir,
        };
        foreach (var (name, value) in overrides ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        var sh = ExternalProgram.Require("sh", "dash");
        var info = new System.Diagnostics.ProcessStartInfo(sh)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(DeployPaths.Kubernetes, script));
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        // The streams close when the script and anything it left running (the promotion loop) are done.
        await process.WaitForExitAsync(cancel.Token);
        var errors = await stderr.WaitAsync(cancel.Token);
        await stdout.WaitAsync(cancel.Token);
        return (process.ExitCode, errors);
    }

    private void Write(string name, string text)
    {
        var path = Path.Combine(Dir, "bin", name);
        File.WriteAllText(path, text.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
