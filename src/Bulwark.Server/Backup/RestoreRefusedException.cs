namespace Bulwark.Server.Backup;

/// <summary>A restore that was refused before anything was written: bad flags, a data dir in use, a bad file.</summary>
public sealed class RestoreRefusedException(string message, Exception? inner = null) : Exception(message, inner);
