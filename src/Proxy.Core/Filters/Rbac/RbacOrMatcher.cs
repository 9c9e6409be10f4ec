namespace Proxy.Filters.Rbac;

/// <summary><c>or_rules</c> / <c>or_ids</c>, and a policy's list of permissions or principals: some rule matches.</summary>
public sealed class RbacOrMatcher(RbacMatcher[] rules) : RbacMatcher
{
    public override bool ReadsRequest => Array.Exists(rules, static r => r.ReadsRequest);

    public override bool ReadsPath => Array.Exists(rules, static r => r.ReadsPath);

    public override bool Matches(scoped in RbacRequest request)
    {
        foreach (var rule in rules)
        {
            if (rule.Matches(in request))
            {
                return true;
            }
        }

        return false;
    }
}
