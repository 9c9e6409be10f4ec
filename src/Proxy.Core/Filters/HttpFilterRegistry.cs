using System.Collections.Concurrent;
using Proxy.Runtime;

namespace Proxy.Filters;

/// <summary>
/// The HTTP filters a listener's <c>http_filters</c> can name, each with the factory that makes it for one listener's
/// compiled routes. A factory returns null when the filter has nothing to do on that listener (no route uses it), so
/// an unused filter costs nothing per request. Adding a filter: one file for its type, one line in the static
/// constructor below (or one <see cref="Register"/> call from outside, as the tests do).
/// </summary>
public static class HttpFilterRegistry
{
    /// <summary>Makes a filter for one listener, or null when it would have nothing to do there.</summary>
    public delegate IHttpFilter? Factory(HttpRouting routing);

    private static readonly ConcurrentDictionary<string, Factory> Factories = new(StringComparer.Ordinal);

    /// <summary>The chain of a listener whose config names none: every built-in, in this order, then the router.</summary>
    public static IReadOnlyList<string> DefaultOrder { get; } =
        [RateLimitFilter.FilterName, FaultFilter.FilterName, MirrorFilter.FilterName, CircuitBreakerFilter.FilterName];

    static HttpFilterRegistry()
    {
        Register(RateLimitFilter.FilterName, RateLimitFilter.Create);
        Register(FaultFilter.FilterName, FaultFilter.Create);
        Register(MirrorFilter.FilterName, MirrorFilter.Create);
        Register(CircuitBreakerFilter.FilterName, CircuitBreakerFilter.Create);
        Register(Rbac.RbacFilter.FilterName, Rbac.RbacFilter.Create);
    }

    /// <summary>Makes <paramref name="name"/> usable in <c>http_filters</c>; a later registration of a name replaces it.</summary>
    public static void Register(string name, Factory factory)
    {
        Factories[name] = factory;
        Configuration.ConfigValidationOptions.KnownHttpFilters.Add(name);
    }

    /// <summary>
    /// The chain for one listener: the named filters in the given order (the default order when
    /// <paramref name="names"/> is null), leaving out those with nothing to do. Names are checked by validation first;
    /// an unknown one here is a programming error.
    /// </summary>
    public static HttpFilterChain Build(IReadOnlyList<string>? names, HttpRouting routing)
    {
        var filters = new List<IHttpFilter>();
        foreach (var name in names ?? DefaultOrder)
        {
            if (!Factories.TryGetValue(name, out var factory))
            {
                throw new InvalidOperationException($"The HTTP filter '{name}' is not registered.");
            }

            if (factory(routing) is { } filter)
            {
                filters.Add(filter);
            }
        }

        return filters.Count == 0 ? HttpFilterChain.Empty : new HttpFilterChain(filters.ToArray());
    }
}
