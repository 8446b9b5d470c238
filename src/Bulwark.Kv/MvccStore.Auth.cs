using Bulwark.Kv.Auth;

namespace Bulwark.Kv;

public sealed partial class MvccStore
{
    /// <summary>
    /// Users, roles and the auth switch: replicated with the keys (same log, same snapshot), so a restored or newly
    /// installed member enforces exactly what the others do.
    /// </summary>
    public AuthStore Auth { get; private set; } = new();
}
