using Microsoft.Extensions.Logging.Console;

namespace Bulwark.Server.Observability;

/// <summary>What <see cref="EcsJsonFormatter"/> stamps on every line besides the event itself.</summary>
public sealed class EcsJsonFormatterOptions : ConsoleFormatterOptions
{
    /// <summary>The member's name (`--name`), written as service.node.name so lines from many members can be told apart.</summary>
    public string MemberName { get; set; } = "";
}
