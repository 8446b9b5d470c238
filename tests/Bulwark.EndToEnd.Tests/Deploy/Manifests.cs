using YamlDotNet.RepresentationModel;

namespace Bulwark.EndToEnd.Tests.Deploy;

/// <summary>The Kubernetes objects of deploy/kubernetes, parsed from every YAML document of every manifest.</summary>
internal sealed class Manifests
{
    private readonly List<YamlMappingNode> objects = [];

    public Manifests(string directory)
    {
        foreach (var file in Directory.GetFiles(directory, "*.yaml").Order(StringComparer.Ordinal))
        {
            var stream = new YamlStream();
            using (var reader = new StreamReader(file))
            {
                stream.Load(reader);
            }

            foreach (var document in stream.Documents)
            {
                objects.Add((YamlMappingNode)document.RootNode);
            }
        }
    }

    /// <summary>The one object of <paramref name="kind"/> (named <paramref name="name"/> when there are several).</summary>
    public Node Object(string kind, string? name = null)
    {
        var matches = objects.Select(o => new Node(o))
            .Where(o => o.Text("kind") == kind && (name is null || o.At("metadata").Text("name") == name)).ToList();
        Assert.True(matches.Count == 1, $"{matches.Count} objects of kind {kind}{(name is null ? "" : $" named {name}")} in deploy/kubernetes");
        return matches[0];
    }

    public IEnumerable<Node> All => objects.Select(o => new Node(o));
}

/// <summary>A YAML node with the lookups the tests need; a missing key fails the test with its path.</summary>
internal readonly record struct Node(YamlNode Yaml)
{
    public Node At(string key) => Find(key) ?? throw new Xunit.Sdk.XunitException($"no '{key}' in {Yaml.Start}: {Yaml}");

    public Node? Find(string key) =>
        Yaml is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var child) ? new Node(child) : null;

    public string Text(string key) => At(key).Scalar;

    public string Scalar => Yaml is YamlScalarNode scalar ? scalar.Value ?? "" : throw new Xunit.Sdk.XunitException($"{Yaml.Start} is not a scalar: {Yaml}");

    public IReadOnlyList<Node> Items => Yaml is YamlSequenceNode sequence
        ? sequence.Children.Select(c => new Node(c)).ToList()
        : throw new Xunit.Sdk.XunitException($"{Yaml.Start} is not a list: {Yaml}");

    /// <summary>A path of keys, e.g. "spec.template.spec".</summary>
    public Node Path(string dotted) => dotted.Split('.').Aggregate(this, (node, key) => node.At(key));
}
