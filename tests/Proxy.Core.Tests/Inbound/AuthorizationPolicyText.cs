using Proxy.Inbound;
using Proxy.Tls;

namespace Proxy.Tests.Inbound;

/// <summary>The policy's decisions with method and path as text, as the tests write them (null: a TCP connection, or no path).</summary>
internal static class AuthorizationPolicyText
{
    public static AuthorizationDecision Evaluate(this AuthorizationPolicy policy, PeerIdentity peer, int port, string? method, string? path) =>
        method is null
            ? policy.EvaluateConnection(peer, port)
            : policy.EvaluateRequest(peer, port, System.Text.Encoding.ASCII.GetBytes(method), path is null ? default : System.Text.Encoding.Latin1.GetBytes(path), path is not null);
}
