using System.Net.Security;

namespace Proxy.Tls;

/// <summary>
/// An <see cref="SslStream"/> that keeps why the certificate check of its handshake failed. The validation callback
/// receives the stream as its sender, so the policy (shared by every connection) writes the reason here, on failure
/// only; the failed handshake then reports it (<see cref="TlsVerificationException"/>).
/// </summary>
internal sealed class VerifyingSslStream(Stream inner, bool leaveInnerStreamOpen) : SslStream(inner, leaveInnerStreamOpen)
{
    /// <summary>Why the peer's certificate was refused, or null when it was not (or not checked yet).</summary>
    public string? VerificationFailure { get; set; }
}
