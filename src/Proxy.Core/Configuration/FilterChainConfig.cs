namespace Proxy.Configuration;

/// <summary>
/// One of a listener's filter chains (Envoy's <c>filter_chains[]</c>): which connections it takes, and what is done
/// with them. <see cref="Listener"/> carries the chain's terminal as a listener of its own (protocol, routes or
/// cluster, TLS, limits); it has a name unique in the configuration (the metrics label) and is never bound.
/// </summary>
public sealed record FilterChainConfig(FilterChainMatchConfig Match, ListenerConfig Listener);
