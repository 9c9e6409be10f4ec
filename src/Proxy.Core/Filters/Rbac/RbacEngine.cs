namespace Proxy.Filters.Rbac;

/// <summary>
/// A compiled RBAC policy set (Envoy's <c>config.rbac.v3.RBAC</c> with action ALLOW or DENY), built once per
/// configuration: ALLOW lets through what some policy matches (nothing, with no policy); DENY refuses what some policy
/// matches. Policies are tried in name order, as Envoy's map is; the first match decides. A decision allocates nothing.
/// </summary>
public sealed class RbacEngine : IEquatable<RbacEngine>
{
    private readonly RbacPolicy[] _policies;
    private readonly string? _source;

    /// <param name="name">Where it came from, for logs and errors (the filter's name in its chain).</param>
    /// <param name="source">
    /// The configuration it was compiled from, in one canonical form (the filter's protobuf bytes): two engines from the
    /// same source are equal, so a listener whose configuration did not change is recognized and kept by a reload.
    /// Null: equal only to itself.
    /// </param>
    public RbacEngine(string name, RbacAction action, IEnumerable<RbacPolicy> policies, string? source = null)
    {
        _source = source;
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

    public bool Equals(RbacEngine? other) =>
        ReferenceEquals(this, other) || (other is not null && _source is not null && _source == other._source && Name == other.Name && Action == other.Action);

    public override bool Equals(object? obj) => Equals(obj as RbacEngine);

    public override int GetHashCode() => _source is null ? base.GetHashCode() : HashCode.Combine(_source, Name, Action);

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
