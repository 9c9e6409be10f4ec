using Envoy.Config.Route.V3;
using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// One Envoy <c>Route</c> as the proxy's <see cref="RouteConfig"/>: its match, and its action (forward with
/// <see cref="RouteActionTranslator"/>, <c>redirect</c>, or <c>direct_response</c>), with its header changes.
/// </summary>
internal static class RouteTranslator
{
    public static RouteConfig Translate(Route route, string where, List<string> clusters)
    {
        var config = new RouteConfig
        {
            Name = route.Name.Length > 0 ? route.Name : null,
            Match = RouteMatchTranslator.Translate(route.Match ?? new RouteMatch(), where),
            ResponseHeaders = HeaderChangesTranslator.Translate(route.ResponseHeadersToAdd, route.ResponseHeadersToRemove, forResponse: true, where, "response_headers_to_add", "response_headers_to_remove"),
        };

        if (route.TypedPerFilterConfig.Count > 0)
        {
            var name = route.TypedPerFilterConfig.Keys.First();
            throw new XdsRejectedException($"{where}: typed_per_filter_config[{name}]: per-route filter configuration is not supported");
        }

        switch (route.ActionCase)
        {
            case Route.ActionOneofCase.Route_:
                config = config with
                {
                    RequestHeaders = HeaderChangesTranslator.Translate(route.RequestHeadersToAdd, route.RequestHeadersToRemove, forResponse: false, where, "request_headers_to_add", "request_headers_to_remove"),
                };
                config = RouteActionTranslator.Translate(config, route.Route_, where, out var named);
                clusters.AddRange(named);
                return config;
            case Route.ActionOneofCase.Redirect:
                return config with { Redirect = Redirect(route.Redirect, config.Match, where) };
            case Route.ActionOneofCase.DirectResponse:
                return config with { DirectResponse = DirectResponse(route.DirectResponse, where) };
            case Route.ActionOneofCase.None:
                throw new XdsRejectedException($"{where}: a route needs an action: route, redirect or direct_response");
            default:
                throw new XdsRejectedException($"{where}: {RouteMatchTranslator.Snake(route.ActionCase.ToString())}: this action is not supported; use route, redirect or direct_response");
        }
    }

    private static RedirectConfig Redirect(RedirectAction redirect, RouteMatchConfig match, string where)
    {
        string? scheme = null;
        var https = false;
        if (redirect.SchemeRewriteSpecifierCase == RedirectAction.SchemeRewriteSpecifierOneofCase.HttpsRedirect)
        {
            https = redirect.HttpsRedirect;
        }
        else if (redirect.SchemeRewriteSpecifierCase == RedirectAction.SchemeRewriteSpecifierOneofCase.SchemeRedirect)
        {
            scheme = redirect.SchemeRedirect.ToLowerInvariant();
            if (scheme.Length == 0 || !char.IsAsciiLetter(scheme[0]) || !scheme.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))
            {
                throw new XdsRejectedException($"{where}: redirect.scheme_redirect: '{redirect.SchemeRedirect}' is not a URI scheme");
            }
        }

        string? host = null;
        if (redirect.HostRedirect.Length > 0)
        {
            host = redirect.HostRedirect;
            var bare = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
            if (!HostPort.IsValidHost(bare))
            {
                throw new XdsRejectedException($"{where}: redirect.host_redirect: '{host}' is not a host name or address (write the port in port_redirect)");
            }
        }

        if (redirect.PortRedirect > 65535)
        {
            throw new XdsRejectedException($"{where}: redirect.port_redirect: {redirect.PortRedirect} is not a port");
        }

        string? path = null, prefix = null;
        switch (redirect.PathRewriteSpecifierCase)
        {
            case RedirectAction.PathRewriteSpecifierOneofCase.PathRedirect:
                path = redirect.PathRedirect.StartsWith('/') ? redirect.PathRedirect : throw new XdsRejectedException($"{where}: redirect.path_redirect: '{redirect.PathRedirect}' must start with '/'");
                break;
            case RedirectAction.PathRewriteSpecifierOneofCase.PrefixRewrite:
                if (match.PathExact is not null || match.PathRegex is not null)
                {
                    throw new XdsRejectedException($"{where}: redirect.prefix_rewrite: replaces the matched prefix, so the route must match by prefix");
                }

                prefix = redirect.PrefixRewrite.StartsWith('/') && !redirect.PrefixRewrite.Contains('?')
                    ? redirect.PrefixRewrite
                    : throw new XdsRejectedException($"{where}: redirect.prefix_rewrite: '{redirect.PrefixRewrite}' must start with '/' and hold no '?'");
                break;
            case RedirectAction.PathRewriteSpecifierOneofCase.RegexRewrite:
                throw new XdsRejectedException($"{where}: redirect.regex_rewrite: regex rewrites in redirects are not supported; use path_redirect or prefix_rewrite");
        }

        return new RedirectConfig
        {
            HttpsRedirect = https,
            Scheme = scheme,
            Host = host,
            Port = redirect.PortRedirect > 0 ? (int)redirect.PortRedirect : null,
            Path = path,
            PrefixRewrite = prefix,
            StripQuery = redirect.StripQuery,
            Status = redirect.ResponseCode switch
            {
                RedirectAction.Types.RedirectResponseCode.Found => 302,
                RedirectAction.Types.RedirectResponseCode.SeeOther => 303,
                RedirectAction.Types.RedirectResponseCode.TemporaryRedirect => 307,
                RedirectAction.Types.RedirectResponseCode.PermanentRedirect => 308,
                _ => 301,
            },
        };
    }

    private static DirectResponseConfig DirectResponse(DirectResponseAction direct, string where)
    {
        if (direct.Status is < 200 or > 599)
        {
            throw new XdsRejectedException($"{where}: direct_response.status: {direct.Status} is not a status from 200 to 599");
        }

        byte[]? body = null;
        if (direct.Body is { } source)
        {
            body = source.SpecifierCase switch
            {
                Envoy.Config.Core.V3.DataSource.SpecifierOneofCase.InlineString => System.Text.Encoding.UTF8.GetBytes(source.InlineString),
                Envoy.Config.Core.V3.DataSource.SpecifierOneofCase.InlineBytes => source.InlineBytes.ToByteArray(),
                Envoy.Config.Core.V3.DataSource.SpecifierOneofCase.None => null,
                _ => throw new XdsRejectedException($"{where}: direct_response.body: only inline_string and inline_bytes are supported (the proxy reads no file or variable a server names)"),
            };
        }

        if (body is { Length: > DirectResponseConfig.MaxBodyBytes })
        {
            throw new XdsRejectedException($"{where}: direct_response.body: {body.Length} bytes is more than the {DirectResponseConfig.MaxBodyBytes} a direct response may carry");
        }

        return new DirectResponseConfig
        {
            Status = (int)direct.Status,
            Body = body is { Length: > 0 } && direct.Status is not (204 or 304) ? new ConfigBytes(body) : null,
        };
    }
}
