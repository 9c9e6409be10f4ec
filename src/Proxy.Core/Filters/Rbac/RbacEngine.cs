namespace Proxy.Filters.Rbac;

/// <summary>
/// A compiled RBAC policy set (Envoy's <c>config.rbac.v3.RBAC</c> with action ALLOW or DENY), built once per
/// configuration: ALLOW lets through what some policy matches (nothing, with no policy); DENY refuses what some policy
/// matches. Policies are tried in name order, as Envoy's map is; the first match decides. A decision allocates nothing.
/// </summary>
public sealed class RbacEngine
{
    private readonly RbacPolicy[] _policies;

    /// <param name="name">Where it came from, for logs and errors (the filter's name in its chain).</param>
    public RbacEngine(string name, RbacAction action, IEnumerable<RbacPolicy> policies)
    {
        Name = name;
        Action = action;
        _policies = policies.OrderBy(static p => p.Name, StringComparer.Ordinal).ToArray();
        ReadsRequest = Array.Exists(_policies, static p => p.Permission.ReadsRequest || p.Principal.ReadsRequest);
        ReadsPath = Array.Exists(_policies, static p => p.Permission.ReadsPath || p.Principal.ReadsPath);
    }

    public string Name { get; }

    public RbacAction Action { get; }

    public IReadOnlyList<RbacPolicy> Policies => _policies;

    /// <summary>True when some rule reads the HTTP request (a header or the path): such an engine cannot judge a bare connection.</summary>
    public bool ReadsRequest { get; }

    /// <summary>True when some rule reads the request's path, which is then normalized before the decision.</summary>
    public bool ReadsPath { get; }

    /// <summary>True when the request may pass.</summary>
    public bool Allows(scoped in RbacRequest request)
    {
        var matched = false;
        foreach (var policy in _policies)
        {
            if (policy.Matches(in request))
            {
                matched = true;
                break;
            }
        }

        return Action == RbacAction.Allow ? matched : !matched;
    }
}
