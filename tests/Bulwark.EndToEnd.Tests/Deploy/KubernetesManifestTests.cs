using System.Net;
using Bulwark.EndToEnd.Tests.Processes;
using Bulwark.TestSupport;

namespace Bulwark.EndToEnd.Tests.Deploy;

/// <summary>
/// deploy/kubernetes: the objects parse as YAML and have what a replicated store needs (3 members started together, one
/// per node, each with its own volume; readiness and liveness on paths a real member serves; peers resolvable before
/// they are ready; one voluntary disruption at a time), and the settings and ports agree with what `bulwark serve` reads.
/// The pod scripts are <see cref="PodScriptsTests"/>.
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly Manifests Manifests = DeploySpec.Manifests;

    private static Node StatefulSet => DeploySpec.StatefulSet;

    private static Node Container => DeploySpec.Container;

    private static Dictionary<string, int> ContainerPorts => DeploySpec.ContainerPorts;

    private static Dictionary<string, string> ContainerEnvironment => DeploySpec.ContainerEnvironment;

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
            var status = HttpStatusCode.NotFound;
            await Eventually.TrueAsync(
                async () =>
                {
                    using var response = await http.GetAsync(path);
                    status = response.StatusCode;
                    return status == HttpStatusCode.OK;
                },
                $"GET {path} on a running member with a leader to answer 200",
                ProcessCluster.Patience,
                diagnostics: () => $"last status: {(int)status}");
        }

        // A path the member does not serve is a 404, so the 200s above are the health checks' answers.
        using var missing = await http.GetAsync("/readiness");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
