namespace Bulwark.Server.Security;

/// <summary>A certificate, key or CA file cannot be used: missing, unreadable, not PEM, or a key that is not the certificate's.</summary>
public sealed class CertificateFileException(string message, Exception? inner = null) : Exception(message, inner);
