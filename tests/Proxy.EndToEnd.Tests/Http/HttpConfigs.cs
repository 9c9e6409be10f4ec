namespace Proxy.EndToEnd.Tests.Http;

/// <summary>Config files for the HTTP end-to-end tests.</summary>
public static class HttpConfigs
{
    /// <summary>One http listener routing everything to cluster "backend".</summary>
    public static string Single(string endpoints, string loadBalancer = "round_robin", string routeExtra = "", string clusterExtra = "", string listenerExtra = "") => $$"""
        admin: { address: 127.0.0.1:0 }
        listeners:
          - name: web
            address: 127.0.0.1:0
            protocol: http
        {{listenerExtra}}
            routes:
              - match: { path_prefix: / }
                cluster: backend
        {{routeExtra}}
        clusters:
          - name: backend
            endpoints: [ {{endpoints}} ]
            load_balancer: {{loadBalancer}}
        {{clusterExtra}}
        """;

    /// <summary>One http listener routing everything to "primary" (protocol http1 or http2) and mirroring every request to "shadow" (http1).</summary>
    public static string Mirrored(string primary, string shadow, string primaryProtocol = "http1") => $$"""
        admin: { address: 127.0.0.1:0 }
        listeners:
          - name: web
            address: 127.0.0.1:0
            protocol: http
            routes:
              - match: { path_prefix: / }
                cluster: primary
                mirror: { cluster: shadow, percent: 100 }
        clusters:
          - { name: primary, endpoints: [ {{primary}} ], protocol: {{primaryProtocol}} }
          - { name: shadow, endpoints: [ {{shadow}} ] }
        """;
}
