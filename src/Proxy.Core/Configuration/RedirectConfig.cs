namespace Proxy.Configuration;

/// <summary>
/// A route that answers with a redirect instead of forwarding (Envoy's RedirectAction): the <c>Location</c> is the
/// request's own URL with the configured parts replaced.
/// </summary>
public sealed record RedirectConfig
{
    /// <summary>The statuses a redirect may have (Envoy's RedirectResponseCode).</summary>
    public static IReadOnlyList<int> Statuses { get; } = new ConfigList<int>([301, 302, 303, 307, 308]);

    /// <summary>Redirect to https (Envoy's https_redirect); not together with <see cref="Scheme"/>.</summary>
    public bool HttpsRedirect { get; init; }

    /// <summary>The scheme of the Location (Envoy's scheme_redirect), lower case; null keeps the request's.</summary>
    public string? Scheme { get; init; }

    /// <summary>The host of the Location, without port (Envoy's host_redirect); null keeps the request's.</summary>
    public string? Host { get; init; }

    /// <summary>The port of the Location (Envoy's port_redirect); null keeps the request's as Envoy does.</summary>
    public int? Port { get; init; }

    /// <summary>The whole path (Envoy's path_redirect), possibly with a query; not together with <see cref="PrefixRewrite"/>.</summary>
    public string? Path { get; init; }

    /// <summary>Replaces the route's matched <c>path_prefix</c> (Envoy's prefix_rewrite).</summary>
    public string? PrefixRewrite { get; init; }

    /// <summary>Drops the request's query (Envoy's strip_query).</summary>
    public bool StripQuery { get; init; }

    /// <summary>301 (default), 302, 303, 307 or 308 (Envoy's response_code).</summary>
    public int Status { get; init; } = 301;
}
