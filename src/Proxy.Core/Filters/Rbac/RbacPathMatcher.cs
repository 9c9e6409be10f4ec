namespace Proxy.Filters.Rbac;

/// <summary>
/// A <c>url_path</c> permission or principal (Envoy's <c>PathMatcher</c>): the request's path without its query,
/// normalized as the app will read it, so <c>/public/../admin</c> cannot pass a rule on <c>/admin</c>. Without a
/// request (a connection) it matches nothing.
/// </summary>
public sealed class RbacPathMatcher(RbacStringMatcher path) : RbacMatcher
{
    public override bool ReadsRequest => true;

    public override bool ReadsPath => true;

    public override bool Matches(scoped in RbacRequest request) =>
        request.Exchange is not null && path.Matches(request.NormalizedPath);
}
