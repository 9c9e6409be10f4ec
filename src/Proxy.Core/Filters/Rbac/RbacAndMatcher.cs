namespace Proxy.Filters.Rbac;

/// <summary><c>and_rules</c> / <c>and_ids</c>: every rule matches.</summary>
public sealed class RbacAndMatcher(RbacMatcher[] rules) : RbacMatcher
{
    public override bool ReadsRequest => Array.Exists(rules, static r => r.ReadsRequest);

    public override bool ReadsPath => Array.Exists(rules, static r => r.ReadsPath);

    public override bool Matches(scoped in RbacRequest request)
    {
        foreach (var rule in rules)
        {
            if (!rule.Matches(in request))
            {
                return false;
            }
        }

        return true;
    }
}
