using Proxy.Configuration;
using Proxy.Tls;

namespace Proxy.Inbound;

/// <summary>
/// Inbound authorization rules in order; the first that matches decides. With rules but no match
/// the request is denied; with no rules everything is allowed. A rule's conditions must all hold;
/// an empty condition matches anything. Principal <c>*</c> matches any authenticated peer.
/// A method or path condition that cannot be checked (a TCP connection, a request target without a path) is judged
/// the safe way, as Istio does: it holds for a deny rule and fails for an allow rule, so what cannot be seen never
/// grants access and never escapes a denial.
/// </summary>
public sealed class AuthorizationPolicy(IReadOnlyList<AuthorizationRuleConfig> rules)
{
    /// <summary>Whether any rule looks at HTTP method or path (then HTTP requests are inspected).</summary>
    public bool NeedsHttp { get; } = rules.Any(static r => r.Methods.Count > 0 || r.Paths.Count > 0);

    /// <summary>
    /// Decides for a connection (method and path null) or an HTTP request (path normalized by
    /// <see cref="AuthorizationPath.Normalize"/>; null when the target has none).
    /// </summary>
    public AuthorizationDecision Evaluate(PeerIdentity peer, int port, string? method, string? path)
    {
        if (rules.Count == 0)
        {
            return AuthorizationDecision.Allow;
        }

        foreach (var rule in rules)
        {
            if (Matches(rule, peer, port, method, path))
            {
                return rule.Action == AuthorizationAction.Allow ? AuthorizationDecision.Allow : AuthorizationDecision.Deny;
            }
        }

        return AuthorizationDecision.Deny;
    }

    private static bool Matches(AuthorizationRuleConfig rule, PeerIdentity peer, int port, string? method, string? path)
    {
        if (rule.Principals.Count > 0 && !AnyPrincipal(rule.Principals, peer))
        {
            return false;
        }

        if (rule.Ports.Count > 0 && !rule.Ports.Contains(port))
        {
            return false;
        }

        // Method and path conditions: an unknown value (TCP, or a target without a path) holds only for deny rules.
        bool unknownHolds = rule.Action == AuthorizationAction.Deny;
        if (rule.Methods.Count > 0 && (method is null ? !unknownHolds : !rule.Methods.Contains(method, StringComparer.OrdinalIgnoreCase)))
        {
            return false;
        }

        if (rule.Paths.Count > 0 && (path is null ? !unknownHolds : !rule.Paths.Any(p => path.StartsWith(p, StringComparison.Ordinal))))
        {
            return false;
        }

        return true;
    }

    private static bool AnyPrincipal(IReadOnlyList<string> principals, PeerIdentity peer)
    {
        if (peer.Id is not { } id)
        {
            return false;
        }

        foreach (var principal in principals)
        {
            if (principal == "*" || principal == id.Value)
            {
                return true;
            }
        }

        return false;
    }
}
