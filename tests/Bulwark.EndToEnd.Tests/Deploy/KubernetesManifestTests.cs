using System.Net;
using Bulwark.EndToEnd.Tests.Compatibility;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.Server.Configuration;

namespace Bulwark.EndToEnd.Tests.Deploy;

/// <summary>
/// deploy/kubernetes: the objects parse as YAML and have what a replicated store needs (3 members started together, one
/// per node, each with its own volume; readiness and liveness on paths a real member serves; peers resolvable before
/// they are ready; one voluntary disruption at a time), the settings and ports agree with what `bulwark serve` reads, and
/// the pod scripts found, join, restart and leave the cluster with the membership commands.
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly Manifests Manifests = new(DeployPaths.Kubernetes);

    private static Node StatefulSet => Manifests.Object("StatefulSet", "bulwark");

    private static Node Container => Assert.Single(StatefulSet.Path("spec.template.spec").At("containers").Items);

    private static Dictionary<string, int> ContainerPorts =>
        Container.At("ports").Items.ToDictionary(p => p.Text("name"), p => int.Parse(p.Text("containerPort"), System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The container's plain environment variables (not the downward-API ones).</summary>
    private static Dictionary<string, string> ContainerEnvironment =>
        Container.At("env").Items.Where(e => e.Find("value") is not null).ToDictionary(e => e.Text("name"), e => e.Text("value"));

    [Fact]
    public void The_statefulset_starts_three_members_together_one_per_node_each_with_its_own_volume()
    {
        var spec = StatefulSet.At("spec");
        Assert.Equal("3", spec.Text("replicas"));
        Assert.Equal("Parallel", spec.Text("podManagementPolicy"));
        Assert.Equal("bulwark-peer", spec.Text("serviceName"));
        var labels = spec.Path("template.metadata.labels");
        Assert.Equal(spec.Path("selector.matchLabels").Text("app.kubernetes.io/name"), labels.Text("app.kubernetes.io/name"));

        var claim = Assert.Single(spec.At("volumeClaimTemplates").Items);
        Assert.Equal("ReadWriteOnce", Assert.Single(claim.Path("spec.accessModes").Items).Scalar);
        var mount = Container.At("volumeMounts").Items.Single(m => m.Text("name") == claim.Path("metadata").Text("name"));
        // The data dir is inside the claim's mount: what a member writes survives the pod.
        Assert.Equal(mount.Text("mountPath"), Path.GetDirectoryName(ContainerEnvironment["BULWARK_DATA_DIR"]));

        var antiAffinity = Assert.Single(spec.Path("template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution").Items);
        Assert.Equal("kubernetes.io/hostname", antiAffinity.Text("topologyKey"));
        Assert.Equal("bulwark", antiAffinity.Path("labelSelector.matchLabels").Text("app.kubernetes.io/name"));

        var resources = Container.At("resources");
        Assert.NotEmpty(resources.Path("requests").Text("cpu"));
        Assert.NotEmpty(resources.Path("requests").Text("memory"));
        Assert.NotEmpty(resources.Path("limits").Text("memory"));

        // The pod scripts: started by the container, run before it stops.
        Assert.Contains("/opt/bulwark-scripts/entrypoint.sh", Container.At("command").Items.Select(i => i.Scalar));
        Assert.Contains("/opt/bulwark-scripts/prestop.sh", Container.Path("lifecycle.preStop.exec.command").Items.Select(i => i.Scalar));
        Assert.Equal("/opt/bulwark-scripts", Container.At("volumeMounts").Items.Single(m => m.Text("name") == "scripts").Text("mountPath"));
    }

    [Fact]
    public void Services_and_the_disruption_budget_select_the_members()
    {
        var ports = ContainerPorts;
        var headless = Manifests.Object("Service", "bulwark-peer").At("spec");
        Assert.Equal("None", headless.Text("clusterIP"));
        Assert.Equal("true", headless.Text("publishNotReadyAddresses"));
        var client = Manifests.Object("Service", "bulwark-client").At("spec");
        foreach (var (service, needed) in new[] { (headless, new[] { "peer", "client" }), (client, new[] { "client" }) })
        {
            Assert.Equal("bulwark", service.At("selector").Text("app.kubernetes.io/name"));
            var targets = service.At("ports").Items.ToDictionary(p => p.Text("name"), p => (Port: int.Parse(p.Text("port"), System.Globalization.CultureInfo.InvariantCulture), Target: p.Text("targetPort")));
            foreach (var name in needed)
            {
                Assert.True(targets.ContainsKey(name), $"service has no {name} port");
                Assert.True(ports.ContainsKey(targets[name].Target), $"target port {targets[name].Target} is no container port");
                Assert.Equal(ports[targets[name].Target], targets[name].Port);
            }
        }

        var budget = Manifests.Object("PodDisruptionBudget", "bulwark").At("spec");
        Assert.Equal("1", budget.Text("maxUnavailable"));
        Assert.Equal("bulwark", budget.Path("selector.matchLabels").Text("app.kubernetes.io/name"));

        // Kustomize applies every manifest here and ships both pod scripts.
        var kustomization = Manifests.Object("Kustomization");
        var resources = kustomization.At("resources").Items.Select(r => r.Scalar).Order(StringComparer.Ordinal).ToList();
        var files = Directory.GetFiles(DeployPaths.Kubernetes, "*.yaml").Select(f => Path.GetFileName(f)!).Where(f => f != "kustomization.yaml").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(files, resources);
        var generated = Assert.Single(kustomization.At("configMapGenerator").Items);
        Assert.Equal("bulwark-scripts", generated.Text("name"));
        Assert.Equal(["entrypoint.sh", "prestop.sh"], generated.At("files").Items.Select(f => f.Scalar).Order(StringComparer.Ordinal));
        Assert.Equal("bulwark-scripts", StatefulSet.Path("spec.template.spec").At("volumes").Items.Single(v => v.Text("name") == "scripts").Path("configMap").Text("name"));
    }

    [Fact]
    public void Every_bulwark_variable_is_a_serve_setting_and_the_ports_are_the_listeners()
    {
        var environment = ContainerEnvironment;
        foreach (var name in environment.Keys.Where(n => n.StartsWith("BULWARK_", StringComparison.Ordinal)))
        {
            var key = name["BULWARK_".Length..].ToLowerInvariant().Replace('_', '-');
            Assert.True(DeployPaths.IsServeSetting(key), $"{name} is no setting of bulwark serve (its unknown BULWARK_ variables are ignored, silently)");
        }

        var ports = ContainerPorts;
        Assert.Equal(ports["client"], new Uri(environment["BULWARK_LISTEN_CLIENT_URLS"]).Port);
        Assert.Equal(ports["peer"], new Uri(environment["BULWARK_LISTEN_PEER_URLS"]).Port);
        Assert.Equal(ports["metrics"], new Uri(environment["BULWARK_LISTEN_METRICS_URLS"]).Port);
        Assert.Equal(ports["peer"].ToString(System.Globalization.CultureInfo.InvariantCulture), environment["CLUSTER_PEER_PORT"]);
        Assert.Equal(ports["client"].ToString(System.Globalization.CultureInfo.InvariantCulture), environment["CLUSTER_CLIENT_PORT"]);
        Assert.Equal((StatefulSet.Path("spec").Text("replicas")), environment["CLUSTER_FOUNDING_MEMBERS"]);
    }

    [Fact]
    public async Task The_probes_are_on_the_metrics_port_and_a_running_member_answers_them()
    {
        var probes = new[] { Container.At("readinessProbe"), Container.At("livenessProbe") }.Select(p => p.At("httpGet")).ToList();
        Assert.All(probes, p => Assert.Equal("metrics", p.Text("port")));
        Assert.Equal(["/readyz", "/livez"], probes.Select(p => p.Text("path")));

        // A real member, its metrics listener where the manifest's BULWARK_LISTEN_METRICS_URLS puts it (on loopback).
        await using var cluster = await ProcessCluster.StartAsync(1);
        await cluster.WaitForLeaderAsync();
        using var http = new HttpClient { BaseAddress = new Uri(cluster.MetricsUrls[0]), Timeout = TimeSpan.FromSeconds(30) };
        foreach (var probe in probes)
        {
            var path = probe.Text("path");
            var deadline = DateTime.UtcNow + ProcessCluster.Patience;
            HttpStatusCode status;
            do
            {
                using var response = await http.GetAsync(path);
                status = response.StatusCode;
            }
            while (status != HttpStatusCode.OK && DateTime.UtcNow < deadline && await Delay());

            Assert.True(status == HttpStatusCode.OK, $"GET {path} on a running member with a leader: {(int)status}");
        }

        // A path the member does not serve is a 404, so the 200s above are the health checks' answers.
        using var missing = await http.GetAsync("/readiness");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        static async Task<bool> Delay()
        {
            await Task.Delay(200);
            return true;
        }
    }

    [Fact]
    public async Task A_founding_pod_starts_a_new_cluster_with_settings_serve_accepts()
    {
        using var pod = new PodScripts(foundingMembers: 3);
        var (exit, stderr) = await pod.RunAsync("entrypoint.sh", "bulwark-0", ContainerEnvironment);
        Assert.True(exit == 0, stderr);
        Assert.Empty(pod.EtcdctlCalls);
        var options = LoadServeOptions(pod, out var state);
        Assert.Equal("new", state);
        Assert.Equal("bulwark-0", options.Name);
        Assert.Equal(Enumerable.Range(0, 3).Select(i => ($"bulwark-{i}", PodScripts.PeerUrl(i))), options.InitialCluster.Select(m => (m.Name, m.PeerUrls[0])));
        Assert.Equal(ContainerPorts["client"], new Uri(Assert.Single(options.AdvertiseClientUrls)).Port);
        Assert.Equal("bulwark-0.bulwark-peer.kv.svc.cluster.local", new Uri(options.AdvertiseClientUrls[0]).Host);
        Assert.Equal(ContainerPorts["peer"], new Uri(options.ListenPeerUrl).Port);
        Assert.Equal(ContainerPorts["metrics"], new Uri(options.ListenMetricsUrl).Port);
    }

    [Fact]
    public async Task A_pod_beyond_the_founders_joins_as_a_learner_promotes_itself_and_restarts_as_the_same_member()
    {
        using var pod = new PodScripts(foundingMembers: 3);
        pod.SetReplicas(5);
        var (exit, stderr) = await pod.RunAsync("entrypoint.sh", "bulwark-3", ContainerEnvironment);
        Assert.True(exit == 0, stderr);

        var add = Assert.Single(pod.EtcdctlCalls, c => c.Contains("member add", StringComparison.Ordinal));
        Assert.EndsWith($"member add bulwark-3 --learner --peer-urls={PodScripts.PeerUrl(3)}", add, StringComparison.Ordinal);
        var options = LoadServeOptions(pod, out var state);
        Assert.Equal("existing", state);
        Assert.Equal(["bulwark-0", "bulwark-1", "bulwark-2", "bulwark-3"], options.InitialCluster.Select(m => m.Name).Order(StringComparer.Ordinal));
        // The promotion loop ran (the script's output closed only when it was done) and made the learner a voter.
        Assert.Contains(pod.EtcdctlCalls, c => c.Contains("member promote", StringComparison.Ordinal));
        Assert.EndsWith(", false", Assert.Single(pod.Members, m => m.Contains(PodScripts.PeerUrl(3), StringComparison.Ordinal)), StringComparison.Ordinal);

        // Restarted with its volume: the same member, the same membership, no second `member add`.
        Directory.CreateDirectory(pod.DataDir);
        var calls = pod.EtcdctlCalls.Count;
        (exit, stderr) = await pod.RunAsync("entrypoint.sh", "bulwark-3", ContainerEnvironment);
        Assert.True(exit == 0, stderr);
        Assert.DoesNotContain(pod.EtcdctlCalls.Skip(calls), c => c.Contains("member add", StringComparison.Ordinal));
        var again = LoadServeOptions(pod, out state);
        Assert.Equal("existing", state);
        Assert.Equal(options.InitialCluster.Select(m => m.Name), again.InitialCluster.Select(m => m.Name));
        Assert.Equal(4, pod.Members.Count);
    }

    [Fact]
    public async Task A_join_that_died_before_its_first_start_drops_its_stale_registration_first()
    {
        using var pod = new PodScripts(foundingMembers: 3);
        pod.RefusePromotion(true);
        File.AppendAllLines(Path.Combine(pod.Dir, "members"), [$"dead1, unstarted, , {PodScripts.PeerUrl(3)}, , true"]);
        pod.RefusePromotion(false);
        var (exit, stderr) = await pod.RunAsync("entrypoint.sh", "bulwark-3", ContainerEnvironment);
        Assert.True(exit == 0, stderr);
        Assert.Contains(pod.EtcdctlCalls, c => c.EndsWith("member remove dead1", StringComparison.Ordinal));
        Assert.Single(pod.Members, m => m.Contains(PodScripts.PeerUrl(3), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Prestop_removes_the_member_on_scale_down_only_and_the_pod_rejoins_afresh_later()
    {
        using var pod = new PodScripts(foundingMembers: 3);
        pod.SetReplicas(5);
        Assert.Equal(0, (await pod.RunAsync("entrypoint.sh", "bulwark-4", ContainerEnvironment)).Exit);
        Directory.CreateDirectory(pod.DataDir);
        File.WriteAllText(Path.Combine(pod.DataDir, "wal"), "log");
        // Started: the member has its name in the list, as a started member does.
        File.WriteAllLines(Path.Combine(pod.Dir, "members"), pod.Members.Select(m => m.Contains(PodScripts.PeerUrl(4), StringComparison.Ordinal)
            ? m.Replace("unstarted, ,", "started, bulwark-4,", StringComparison.Ordinal) : m).ToList());

        // A restart (rolling update, drain) while the StatefulSet still wants 5: the member stays.
        var (exit, stderr) = await pod.RunAsync("prestop.sh", "bulwark-4", ContainerEnvironment);
        Assert.True(exit == 0, stderr);
        Assert.Equal(4, pod.Members.Count);
        // A founding member never removes itself, whatever the size.
        pod.SetReplicas(1);
        Assert.Equal(0, (await pod.RunAsync("prestop.sh", "bulwark-1", ContainerEnvironment)).Exit);
        Assert.Equal(4, pod.Members.Count);

        // Scale-down to 3: bulwark-4 removes itself and marks its volume.
        pod.SetReplicas(3);
        (exit, stderr) = await pod.RunAsync("prestop.sh", "bulwark-4", ContainerEnvironment);
        Assert.True(exit == 0, stderr);
        Assert.DoesNotContain(pod.Members, m => m.Contains("bulwark-4", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(pod.Volume, "removed")));

        // Scaled up again with the old volume: the stale data is wiped and the pod joins as a new member.
        pod.SetReplicas(5);
        var adds = pod.EtcdctlCalls.Count(c => c.Contains("member add", StringComparison.Ordinal));
        (exit, stderr) = await pod.RunAsync("entrypoint.sh", "bulwark-4", ContainerEnvironment);
        Assert.True(exit == 0, stderr);
        Assert.False(File.Exists(Path.Combine(pod.DataDir, "wal")), "the removed member's data is still there");
        Assert.Equal(adds + 1, pod.EtcdctlCalls.Count(c => c.Contains("member add", StringComparison.Ordinal)));
        LoadServeOptions(pod, out var state);
        Assert.Equal("existing", state);
    }

    [Fact]
    public async Task Prestop_keeps_the_membership_when_the_cluster_cannot_be_asked()
    {
        using var pod = new PodScripts(foundingMembers: 3);
        pod.SetReplicas(3);
        // etcdctl fails (no member reachable): nothing may be taken for "already removed".
        File.WriteAllText(Path.Combine(pod.Dir, "bin", "etcdctl"), "#!/bin/sh\necho \"$*\" >> \"$SANDBOX/etcdctl.log\"\necho 'Error: context deadline exceeded' >&2\nexit 1\n");
        var environment = new Dictionary<string, string>(ContainerEnvironment) { ["REMOVE_TIMEOUT_SECONDS"] = "1" };
        var (exit, _) = await pod.RunAsync("prestop.sh", "bulwark-3", environment);
        Assert.NotEqual(0, exit);
        Assert.False(File.Exists(Path.Combine(pod.Volume, "removed")), "an unreachable cluster made the member mark itself removed");
    }

    [Fact]
    public async Task The_pod_scripts_join_and_leave_a_real_etcd_cluster_with_the_real_etcdctl()
    {
        // etcd 3.4 with etcdctl 3.4: the output formats the scripts parse are the real ones, not the fake's.
        var etcd = new ReferenceEtcd();
        await etcd.InitializeAsync();
        try
        {
            using var pod = new PodScripts(foundingMembers: 3);
            pod.SetReplicas(4);
            var real = new Dictionary<string, string> { ["ETCDCTL_BIN"] = Etcdctl.Path, ["CLUSTER_ENDPOINT"] = $"http://{etcd.Endpoint}" };
            var entrypoint = pod.RunAsync("entrypoint.sh", "bulwark-3", ContainerEnvironment, real);
            var deadline = DateTime.UtcNow + ProcessCluster.Patience;
            while (pod.BulwarkArgs is null && !entrypoint.IsCompleted && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            Assert.False(entrypoint.IsCompleted, $"the entrypoint ended early: {(entrypoint.IsCompleted ? (await entrypoint).Stderr : "")}");
            var options = LoadServeOptions(pod, out var state);
            Assert.Equal("existing", state);
            Assert.Equal(["bulwark-3", "ref"], options.InitialCluster.Select(m => m.Name).Order(StringComparer.Ordinal));
            var learner = Assert.Single(Etcdctl.Lines(await Etcdctl.RunOkAsync(etcd.Endpoint, "member", "list")), l => l.Contains(PodScripts.PeerUrl(3), StringComparison.Ordinal));
            Assert.Matches(@"^[0-9a-f]+, unstarted, , http://\S+, , true$", learner);

            // The learner never started, so etcd refuses to promote it and the pod's loop keeps asking; on scale-down,
            // preStop finds it by its peer URL and removes it, which ends the loop.
            Assert.False(entrypoint.IsCompleted);
            pod.SetReplicas(3);
            var (exit, stderr) = await pod.RunAsync("prestop.sh", "bulwark-3", ContainerEnvironment, real);
            Assert.True(exit == 0, stderr);
            Assert.DoesNotContain(PodScripts.PeerUrl(3), await Etcdctl.RunOkAsync(etcd.Endpoint, "member", "list"), StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(pod.Volume, "removed")));
            var ended = await entrypoint;
            Assert.Equal(0, ended.Exit);
            Assert.Contains("no longer a member", ended.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            await etcd.DisposeAsync();
        }
    }

    /// <summary>The `bulwark serve` command line the entrypoint ran, with the StatefulSet's variables, through the
    /// node's own configuration loader (which rejects unknown flags and invalid values).</summary>
    private static NodeOptions LoadServeOptions(PodScripts pod, out string initialClusterState)
    {
        var args = pod.BulwarkArgs ?? throw new Xunit.Sdk.XunitException("the entrypoint did not start bulwark");
        Assert.Equal("serve", args[0]);
        var flags = args.Skip(1).ToList();
        var at = flags.IndexOf("--" + DeployPaths.InitialClusterState);
        Assert.True(at >= 0 && at + 1 < flags.Count, "no --initial-cluster-state");
        initialClusterState = flags[at + 1];
        if (NodeSettings.Find(DeployPaths.InitialClusterState) is null)
        {
            // Until the membership work adds the flag to serve, the loader would call it unknown.
            flags.RemoveRange(at, 2);
        }

        var environment = ContainerEnvironment.Where(e => e.Key.StartsWith("BULWARK_", StringComparison.Ordinal))
            .ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        environment["BULWARK_DATA_DIR"] = pod.DataDir;
        return NodeConfigurationLoader.Load(flags, environment, _ => throw new InvalidOperationException("no config file"));
    }
}
