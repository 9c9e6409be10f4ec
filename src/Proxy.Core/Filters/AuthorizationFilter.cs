using System.Buffers;
using System.Globalization;
using Proxy.Forwarding;
using Proxy.Inbound;
using Proxy.Observability.Metrics;

namespace Proxy.Filters;

/// <summary>
/// Mesh inbound authorization per request (Istio's AuthorizationPolicy, Envoy's RBAC filter): the peer's verified
/// identity, the port, the method and the normalized path (<see cref="AuthorizationPath"/>) against the policy. A
/// denial answers 403 <c>rbac-access-denied</c> (gRPC: PERMISSION_DENIED) and is counted by peer and port. It runs
/// first in the inbound chain, before the router, so a denied request matches no route and reaches no app. A request
/// without a verified peer is judged as an unknown peer: it never fails open. The policy is read per request from
/// <paramref name="policy"/>, so a reloaded policy holds for the next request of every open connection.
/// </summary>
public sealed class AuthorizationFilter(Func<AuthorizationPolicy> policy, int port, CounterFamily denied) : IHttpFilter
{
    public const string FilterName = "authorization";

    private const int StackLimit = 1024; // longer targets normalize into a pooled buffer

    private readonly string _portText = port.ToString(CultureInfo.InvariantCulture);

    public string Name => FilterName;

    public FilterVerdict OnRequest(HttpExchange exchange)
    {
        var peer = exchange.Peer ?? Tls.PeerIdentity.None(Tls.NoTlsReason.Plaintext);
        ReadOnlySpan<byte> target = exchange.Target;
        byte[]? rented = null;
        Span<byte> path = target.Length < StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(target.Length + 1));
        try
        {
            bool pathKnown = AuthorizationPath.TryNormalize(target, path, out int length);
            if (policy().EvaluateRequest(peer, port, exchange.Method, path[..length], pathKnown) == AuthorizationDecision.Allow)
            {
                return FilterVerdict.Continue;
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        denied.WithLabels(peer.Principal, _portText, "authorization").Increment();
        return FilterVerdict.Answer(403, ResponseFlag.AccessDenied);
    }
}
