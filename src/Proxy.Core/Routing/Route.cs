namespace Proxy.Routing;

/// <summary>
/// One compiled, immutable route: its matchers and its clusters with their weights.
/// <see cref="Index"/> is the position of its <see cref="RouteDefinition"/>, which the caller uses
/// to find its own per-route policy (timeouts, retries) and resolved cluster objects.
/// </summary>
public sealed class Route
{
    private readonly HostMatcher _host;
    private readonly PathMatcher _path;
    private readonly MethodMatcher _method;
    private readonly HeaderMatcher[] _headers;
    private readonly QueryParameterMatcher[] _query;
    private readonly bool _grpc;
    private readonly string[] _clusters;
    private readonly int[] _weights;

    // Running sums of _weights; the last element is _totalWeight.
    private readonly uint[] _cumulativeWeights;
    private readonly uint _totalWeight;

    internal Route(
        int index,
        string name,
        HostMatcher host,
        PathMatcher path,
        MethodMatcher method,
        HeaderMatcher[] headers,
        QueryParameterMatcher[] query,
        bool grpc,
        string[] clusters,
        int[] weights,
        int virtualHostIndex = 0)
    {
        Index = index;
        Name = name;
        VirtualHostIndex = virtualHostIndex;
        _query = query;
        _grpc = grpc;
        _host = host;
        _path = path;
        _method = method;
        _headers = headers;
        _clusters = clusters;
        _weights = weights;
        _cumulativeWeights = new uint[weights.Length];
        uint sum = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            sum += (uint)weights[i];
            _cumulativeWeights[i] = sum;
        }

        _totalWeight = sum;
    }

    /// <summary>Position of the route's definition in the list given to <see cref="RouteTable.Build(IReadOnlyList{RouteDefinition})"/>.</summary>
    public int Index { get; }

    /// <summary>Position of the route's virtual host in <see cref="RouteTable.VirtualHosts"/> (0 for a table built from plain routes).</summary>
    public int VirtualHostIndex { get; }

    /// <summary>The configured name, or "route-N" when none was given.</summary>
    public string Name { get; }

    /// <summary>Cluster names in definition order: one for a plain route, several for a split.</summary>
    public IReadOnlyList<string> Clusters => _clusters;

    /// <summary>Weights parallel to <see cref="Clusters"/> (1 for a plain route).</summary>
    public IReadOnlyList<int> Weights => _weights;

    /// <summary>Sum of <see cref="Weights"/>; positive, except 0 for a route that answers by itself (no clusters).</summary>
    public uint TotalWeight => _totalWeight;

    /// <summary>
    /// Chooses the cluster for one request as an index into <see cref="Clusters"/>, deterministically from
    /// <paramref name="random"/>: the point <c>random % TotalWeight</c> falls in the weight ranges laid out in
    /// definition order (weights 90/10: points 0..89 pick index 0, 90..99 index 1). The modulo bias is at most
    /// TotalWeight / 2^32, negligible for real weights. Arms with weight 0 are never picked.
    /// </summary>
    public int PickClusterIndex(uint random)
    {
        uint[] cumulative = _cumulativeWeights;
        if (cumulative.Length == 1)
        {
            return 0;
        }

        uint point = random % _totalWeight;
        int last = cumulative.Length - 1;
        for (int i = 0; i < last; i++)
        {
            if (point < cumulative[i])
            {
                return i;
            }
        }

        return last;
    }

    /// <summary>Chooses the cluster name for one request; see <see cref="PickClusterIndex"/>.</summary>
    public string PickCluster(uint random) => _clusters[PickClusterIndex(random)];

    /// <summary>The compiled host condition, read by <see cref="HostRouteIndex"/> at build time.</summary>
    internal HostMatcher Host => _host;

    /// <summary>Tests the request against every condition of this route. <paramref name="host"/> is already normalized.</summary>
    internal bool Matches<TRequest>(
        ReadOnlySpan<byte> host,
        ReadOnlySpan<byte> path,
        ReadOnlySpan<byte> method,
        scoped ref TRequest request)
        where TRequest : IRouteRequest, allows ref struct
    {
        // Cheapest first: a path regex runs only for requests whose host and method already fit.
        if (!_host.Matches(host) || !_method.Matches(method) || !_path.Matches(path))
        {
            return false;
        }

        if (_grpc && !IsGrpc(ref request))
        {
            return false;
        }

        HeaderMatcher[] headers = _headers;
        for (int i = 0; i < headers.Length; i++)
        {
            if (!headers[i].Matches(ref request))
            {
                return false;
            }
        }

        QueryParameterMatcher[] query = _query;
        if (query.Length != 0)
        {
            ReadOnlySpan<byte> queryString = request.Query;
            for (int i = 0; i < query.Length; i++)
            {
                if (!query[i].Matches(queryString))
                {
                    return false;
                }
            }
        }

        return true;
    }

    // gRPC over HTTP/2 ("Requests" in grpc/doc/PROTOCOL-HTTP2.md): Content-Type is "application/grpc", optionally
    // followed by "+proto", "+json" or parameters. Media types are case-insensitive (RFC 9110 section 8.3.1).
    private static bool IsGrpc<TRequest>(scoped ref TRequest request)
        where TRequest : IRouteRequest, allows ref struct
    {
        if (!request.TryGetHeader("content-type"u8, out ReadOnlySpan<byte> type) || type.Length < GrpcMediaType.Length
            || !System.Text.Ascii.EqualsIgnoreCase(type.Slice(0, GrpcMediaType.Length), GrpcMediaType))
        {
            return false;
        }

        return type.Length == GrpcMediaType.Length || type[GrpcMediaType.Length] is (byte)'+' or (byte)';';
    }

    private static ReadOnlySpan<byte> GrpcMediaType => "application/grpc"u8;

    /// <inheritdoc />
    public override string ToString() => Name;
}
