namespace Proxy.Filters.Rbac;

/// <summary><c>not_rule</c> / <c>not_id</c>: the rule does not match.</summary>
public sealed class RbacNotMatcher(RbacMatcher rule) : RbacMatcher
{
    public override bool ReadsRequest => rule.ReadsRequest;

    public override bool ReadsPath => rule.ReadsPath;

    public override bool Matches(scoped in RbacRequest request) => !rule.Matches(in request);
}
