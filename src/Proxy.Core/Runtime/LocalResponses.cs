using Proxy.Configuration;
using Proxy.Routing;

namespace Proxy.Runtime;

/// <summary>Compiles a route's redirect or direct_response into the <see cref="LocalResponse"/> the router answers with.</summary>
internal static class LocalResponses
{
    /// <summary>The route's local answer, or null for a route that forwards.</summary>
    public static LocalResponse? FromConfig(RouteConfig route)
    {
        if (route.Redirect is { } redirect)
        {
            return LocalResponse.ForRedirect(new RedirectAction(
                redirect.Status,
                scheme: redirect.HttpsRedirect ? "https" : redirect.Scheme,
                host: redirect.Host,
                port: redirect.Port,
                path: redirect.Path,
                prefixRewrite: redirect.PrefixRewrite,
                // A route without a path condition matches every path, as path_prefix "/" does.
                matchedPrefix: route.Match.PathPrefix ?? "/",
                stripQuery: redirect.StripQuery));
        }

        if (route.DirectResponse is { } direct)
        {
            return LocalResponse.Direct(direct.Status, direct.Body is { } body ? body.Memory.Span : default, direct.ContentType);
        }

        return null;
    }
}
