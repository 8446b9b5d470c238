namespace Bulwark.Simulation;

/// <summary>The simulated world was asked to do something impossible (a bug in the host or in the core's output).</summary>
public sealed class SimulationException(string message) : Exception(message);
