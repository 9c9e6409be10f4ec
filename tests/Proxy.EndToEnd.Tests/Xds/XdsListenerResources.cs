using Envoy.Config.Core.V3;
using Envoy.Config.Listener.V3;
using Envoy.Config.Route.V3;
using Envoy.Extensions.Filters.Network.HttpConnectionManager.V3;
using Envoy.Extensions.Filters.Network.TcpProxy.V3;
using Google.Protobuf.WellKnownTypes;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>Envoy v3 Listener and RouteConfiguration resources as a control plane sends them, built for the tests.</summary>
public static class XdsListenerResources
{
    /// <summary>An HTTP listener on 127.0.0.1:<paramref name="port"/> whose routes come over RDS as <paramref name="routeConfigName"/>.</summary>
    public static Listener HttpListener(string name, int port, string routeConfigName) =>
        Listener(name, port, Hcm(new HttpConnectionManager
        {
            Rds = new Rds
            {
                RouteConfigName = routeConfigName,
                ConfigSource = new ConfigSource { Ads = new AggregatedConfigSource(), ResourceApiVersion = ApiVersion.V3 },
            },
        }));

    /// <summary>An HTTP listener with its routes inline (<c>route_config</c>).</summary>
    public static Listener InlineHttpListener(string name, int port, RouteConfiguration routes) =>
        Listener(name, port, Hcm(new HttpConnectionManager { RouteConfig = routes }));

    /// <summary>A tcp_proxy listener forwarding to <paramref name="cluster"/>.</summary>
    public static Listener TcpListener(string name, int port, string cluster)
    {
        var proxy = new TcpProxy { StatPrefix = name, Cluster = cluster };
        return Listener(name, port, new Filter { Name = "envoy.filters.network.tcp_proxy", TypedConfig = Any.Pack(proxy) });
    }

    /// <summary>The http_connection_manager filter around <paramref name="manager"/>, with the router as its one HTTP filter.</summary>
    public static Filter Hcm(HttpConnectionManager manager)
    {
        manager.StatPrefix = "ingress_http";
        manager.HttpFilters.Add(new HttpFilter
        {
            Name = "envoy.filters.http.router",
            TypedConfig = new Any { TypeUrl = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" },
        });
        return new Filter { Name = "envoy.filters.network.http_connection_manager", TypedConfig = Any.Pack(manager) };
    }

    public static Listener Listener(string name, int port, Filter filter)
    {
        var listener = new Listener
        {
            Name = name,
            Address = new Address { SocketAddress = new SocketAddress { Address = "127.0.0.1", PortValue = (uint)port } },
        };
        var chain = new FilterChain();
        chain.Filters.Add(filter);
        listener.FilterChains.Add(chain);
        return listener;
    }

    /// <summary>A RouteConfiguration with one virtual host "*" and its routes.</summary>
    public static RouteConfiguration Routes(string name, params Route[] routes)
    {
        var host = new VirtualHost { Name = "all", Domains = { "*" } };
        host.Routes.Add(routes);
        var config = new RouteConfiguration { Name = name };
        config.VirtualHosts.Add(host);
        return config;
    }

    /// <summary>A route sending requests whose path starts with <paramref name="prefix"/> to <paramref name="cluster"/>.</summary>
    public static Route Prefix(string prefix, string cluster) => new()
    {
        Match = new RouteMatch { Prefix = prefix },
        Route_ = new RouteAction { Cluster = cluster },
    };
}
