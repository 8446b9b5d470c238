using System.Globalization;

namespace Bulwark.EndToEnd.Tests.Deploy;

/// <summary>The StatefulSet's container as deploy/kubernetes declares it: its ports and plain environment variables.</summary>
internal static class DeploySpec
{
    public static Manifests Manifests { get; } = new(DeployPaths.Kubernetes);

    public static Node StatefulSet => Manifests.Object("StatefulSet", "bulwark");

    public static Node Container => Assert.Single(StatefulSet.Path("spec.template.spec").At("containers").Items);

    public static Dictionary<string, int> ContainerPorts =>
        Container.At("ports").Items.ToDictionary(p => p.Text("name"), p => int.Parse(p.Text("containerPort"), CultureInfo.InvariantCulture));

    /// <summary>The container's plain environment variables (not the downward-API ones).</summary>
    public static Dictionary<string, string> ContainerEnvironment =>
        Container.At("env").Items.Where(e => e.Find("value") is not null).ToDictionary(e => e.Text("name"), e => e.Text("value"));
}
