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
public sealed class AuthorizationPolicy
{
    private readonly Rule[] _rules;

    public AuthorizationPolicy(IReadOnlyList<AuthorizationRuleConfig> rules)
    {
        _rules = [.. rules.Select(static r => new Rule(
            r.Action == AuthorizationAction.Deny,
            [.. r.Principals],
            [.. r.Ports],
            [.. r.Methods.Select(static m => System.Text.Encoding.ASCII.GetBytes(m))],
            [.. r.Paths.Select(static p => System.Text.Encoding.Latin1.GetBytes(p))]))];
        NeedsHttp = _rules.Any(static r => r.Methods.Length > 0 || r.Paths.Length > 0);
    }

    /// <summary>A rule compiled for matching bytes: methods in ASCII, paths one byte per character as normalized.</summary>
    private sealed record Rule(bool Deny, string[] Principals, int[] Ports, byte[][] Methods, byte[][] Paths);

    /// <summary>Whether any rule looks at HTTP method or path (then HTTP requests are inspected).</summary>
    public bool NeedsHttp { get; }

    /// <summary>Decides for a TCP connection: method and path unknown.</summary>
    public AuthorizationDecision EvaluateConnection(PeerIdentity peer, int port) => Evaluate(peer, port, default, default, httpKnown: false, pathKnown: false);

    /// <summary>
    /// Decides for an HTTP request, without allocating: <paramref name="path"/> normalized by
    /// <see cref="AuthorizationPath.TryNormalize"/>, <paramref name="pathKnown"/> false when the target has none.
    /// </summary>
    public AuthorizationDecision EvaluateRequest(PeerIdentity peer, int port, ReadOnlySpan<byte> method, ReadOnlySpan<byte> path, bool pathKnown) =>
        Evaluate(peer, port, method, path, httpKnown: true, pathKnown);

    private AuthorizationDecision Evaluate(PeerIdentity peer, int port, ReadOnlySpan<byte> method, ReadOnlySpan<byte> path, bool httpKnown, bool pathKnown)
    {
        if (_rules.Length == 0)
        {
            return AuthorizationDecision.Allow;
        }

        foreach (var rule in _rules)
        {
            if (Matches(rule, peer, port, method, path, httpKnown, pathKnown))
            {
                return rule.Deny ? AuthorizationDecision.Deny : AuthorizationDecision.Allow;
            }
        }

        return AuthorizationDecision.Deny;
    }

    private static bool Matches(Rule rule, PeerIdentity peer, int port, ReadOnlySpan<byte> method, ReadOnlySpan<byte> path, bool httpKnown, bool pathKnown)
    {
        if (rule.Principals.Length > 0 && !AnyPrincipal(rule.Principals, peer))
        {
            return false;
        }

        if (rule.Ports.Length > 0 && Array.IndexOf(rule.Ports, port) < 0)
        {
            return false;
        }

        // Method and path conditions: an unknown value (TCP, or a target without a path) holds only for deny rules.
        if (rule.Methods.Length > 0 && (!httpKnown ? !rule.Deny : !AnyMethod(rule.Methods, method)))
        {
            return false;
        }

        if (rule.Paths.Length > 0 && (!pathKnown ? !rule.Deny : !AnyPrefix(rule.Paths, path)))
        {
            return false;
        }

        return true;
    }

    private static bool AnyMethod(byte[][] methods, ReadOnlySpan<byte> method)
    {
        foreach (var candidate in methods)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(candidate, method))
            {
                return true;
            }
        }

        return false;
    }

    private static bool AnyPrefix(byte[][] prefixes, ReadOnlySpan<byte> path)
    {
        foreach (var prefix in prefixes)
        {
            if (path.StartsWith(prefix))
            {
                return true;
            }
        }

        return false;
    }

    private static bool AnyPrincipal(string[] principals, PeerIdentity peer)
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
