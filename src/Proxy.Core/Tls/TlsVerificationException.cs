using System.Security.Authentication;

namespace Proxy.Tls;

/// <summary>
/// A TLS handshake failed because the peer's certificate was refused. An <see cref="AuthenticationException"/>, so
/// every handler of failed handshakes still catches it; <see cref="Reason"/> is the sentence for the log.
/// </summary>
public sealed class TlsVerificationException(string reason, Exception inner) : AuthenticationException(reason, inner)
{
    /// <summary>Why the certificate was refused: untrusted root, name mismatch, expired, wrong identity...</summary>
    public string Reason { get; } = reason;
}
