using System.Buffers;
using Proxy.Forwarding;
using Proxy.Inbound;
using Proxy.Observability.Metrics;
using Proxy.Runtime;

namespace Proxy.Filters.Rbac;

/// <summary>
/// Envoy's <c>envoy.filters.http.rbac</c> on a listener: the listener's RBAC policy sets (<see cref="HttpRouting.Rbac"/>),
/// in order, over each request and its connection; the first that refuses it answers 403 <c>rbac-access-denied</c>
/// ("RBAC: access denied"; gRPC: PERMISSION_DENIED), counted in <c>proxy_rbac_denied_total{kind="http"}</c>. A rule on
/// the path reads it normalized (<see cref="AuthorizationPath"/>); a request whose path cannot be normalized is refused
/// by a policy set that reads paths, whatever its action: a rule it cannot judge never lets a request through.
/// </summary>
public sealed class RbacFilter : IHttpFilter
{
    public const string FilterName = "rbac";

    private const int StackLimit = 1024; // longer targets normalize into a pooled buffer

    private readonly RbacEngine[] _engines;
    private readonly Counter _denied;
    private readonly bool _readsPath;

    public RbacFilter(RbacEngine[] engines, Counter denied)
    {
        _engines = engines;
        _denied = denied;
        _readsPath = Array.Exists(engines, static e => e.ReadsPath);
    }

    public string Name => FilterName;

    /// <summary>The filter, or null when the listener has no RBAC policy set.</summary>
    public static IHttpFilter? Create(HttpRouting routing) =>
        routing.Rbac.Count == 0 ? null : new RbacFilter([.. routing.Rbac], routing.RbacDenied);

    public FilterVerdict OnRequest(HttpExchange exchange)
    {
        if (!_readsPath)
        {
            return Decide(new RbacRequest(exchange.RbacConnection, exchange, default));
        }

        ReadOnlySpan<byte> target = exchange.Target;
        byte[]? rented = null;
        Span<byte> path = target.Length < StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(target.Length + 1));
        try
        {
            if (!AuthorizationPath.TryNormalize(target, path, out int length))
            {
                return Deny();
            }

            return Decide(new RbacRequest(exchange.RbacConnection, exchange, path[..length]));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private FilterVerdict Decide(scoped in RbacRequest request)
    {
        foreach (var engine in _engines)
        {
            if (!engine.Allows(in request))
            {
                return Deny();
            }
        }

        return FilterVerdict.Continue;
    }

    private FilterVerdict Deny()
    {
        _denied.Increment();
        return FilterVerdict.Answer(403, ResponseFlag.AccessDenied);
    }
}
