using Envoy.Config.Core.V3;
using Envoy.Extensions.Filters.Network.HttpConnectionManager.V3;
using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// The <c>envoy.filters.network.http_connection_manager</c> network filter as an http listener: where its routes
/// come from (<c>rds</c> over ADS, or inline <c>route_config</c>), its HTTP filter chain (<see cref="HttpFiltersTranslator"/>), its codec and timeouts. Filters the proxy cannot run as configured are rejections naming the filter.
/// </summary>
internal static class HttpConnectionManagerTranslator
{
    public const string RouterType = HttpFiltersTranslator.RouterType;

    public static (ListenerConfig Listener, string? RdsName, TranslatedRouteConfiguration? Inline) Translate(ListenerConfig listener, HttpConnectionManager manager, string where)
    {
        where += ": http_connection_manager";
        if (manager.CodecType == HttpConnectionManager.Types.CodecType.Http3)
        {
            throw new XdsRejectedException($"{where}: codec_type: HTTP/3 is not supported; use AUTO, HTTP1 or HTTP2");
        }

        listener = HttpFiltersTranslator.Translate(listener, manager, where);
        if (manager.RequestTimeout is { } requestTimeout && XdsText.Of(requestTimeout, where, "request_timeout") > TimeSpan.Zero)
        {
            throw new XdsRejectedException($"{where}: request_timeout: the proxy has no timeout for receiving a whole request; remove it (request_headers_timeout and the route's timeout are supported)");
        }

        if (manager.LocalReplyConfig is not null)
        {
            throw new XdsRejectedException($"{where}: local_reply_config: rewriting the proxy's own replies is not supported");
        }

        string? rdsName = null;
        TranslatedRouteConfiguration? inline = null;
        switch (manager.RouteSpecifierCase)
        {
            case HttpConnectionManager.RouteSpecifierOneofCase.Rds:
                var source = manager.Rds.ConfigSource;
                if (source is not null && source.ConfigSourceSpecifierCase is not (ConfigSource.ConfigSourceSpecifierOneofCase.Ads or ConfigSource.ConfigSourceSpecifierOneofCase.Self or ConfigSource.ConfigSourceSpecifierOneofCase.None))
                {
                    throw new XdsRejectedException($"{where}: rds.config_source: routes from {RouteMatchTranslator.Snake(source.ConfigSourceSpecifierCase.ToString())} are not supported; the proxy takes them over its ADS stream, so set config_source to ads: {{}}");
                }

                rdsName = manager.Rds.RouteConfigName.Length > 0 ? manager.Rds.RouteConfigName : throw new XdsRejectedException($"{where}: rds.route_config_name: empty; name the RouteConfiguration");
                break;
            case HttpConnectionManager.RouteSpecifierOneofCase.RouteConfig:
                inline = RouteConfigurationTranslator.Translate(manager.RouteConfig);
                break;
            case HttpConnectionManager.RouteSpecifierOneofCase.ScopedRoutes:
                throw new XdsRejectedException($"{where}: scoped_routes: scoped route tables are not supported; use rds or route_config");
            default:
                throw new XdsRejectedException($"{where}: an http_connection_manager needs rds or route_config");
        }

        var limits = listener.Limits;
        // 0 is Envoy's "no timeout"; the proxy always bounds the head (slowloris), so it keeps its own default then.
        if (manager.RequestHeadersTimeout is { } headersTimeout && XdsText.NonNegative(headersTimeout, where, "request_headers_timeout") is var header && header > TimeSpan.Zero)
        {
            limits = limits with { HeaderTimeout = header };
        }

        if (manager.MaxRequestHeadersKb is { } kb)
        {
            limits = limits with { MaxHeaderBytes = (int)Math.Min(kb, 16 * 1024) * 1024 };
        }

        return (listener with { Protocol = ListenerProtocol.Http, IdleTimeout = IdleTimeout(manager, where, listener.IdleTimeout), Limits = limits }, rdsName, inline);
    }

    /// <summary>
    /// The proxy has one idle timer per downstream connection (no stream open, or a body that moved no byte): it takes
    /// the shorter of <c>common_http_protocol_options.idle_timeout</c> and <c>stream_idle_timeout</c> that is not 0.
    /// </summary>
    private static TimeSpan IdleTimeout(HttpConnectionManager manager, string where, TimeSpan fallback)
    {
        TimeSpan? connection = manager.CommonHttpProtocolOptions?.IdleTimeout is { } c ? XdsText.NonNegative(c, where, "common_http_protocol_options.idle_timeout") : null;
        TimeSpan? stream = manager.StreamIdleTimeout is { } s ? XdsText.NonNegative(s, where, "stream_idle_timeout") : null;
        if (connection is null && stream is null)
        {
            return fallback; // Envoy's stream_idle_timeout default (5 min) is the proxy's own default
        }

        TimeSpan? shortest = null;
        foreach (var value in (ReadOnlySpan<TimeSpan?>)[connection, stream])
        {
            if (value is { } v && v > TimeSpan.Zero && (shortest is null || v < shortest))
            {
                shortest = v;
            }
        }

        return shortest ?? TimeSpan.Zero; // both 0: no idle timeout
    }
}
