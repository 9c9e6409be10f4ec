namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>Config files for the HTTP/2 end-to-end tests.</summary>
public static class Http2Configs
{
    /// <summary>One listener (protocol http or auto) routing everything to "backend", whose protocol is http1 or http2.</summary>
    public static string Single(string endpoints, string clusterProtocol = "http1", string listenerProtocol = "http", string routeExtra = "", string clusterExtra = "", string listenerExtra = "") => $$"""
        admin: { address: 127.0.0.1:0 }
        listeners:
          - name: web
            address: 127.0.0.1:0
            protocol: {{listenerProtocol}}
        {{listenerExtra}}
            routes:
              - match: { path_prefix: / }
                cluster: backend
        {{routeExtra}}
        clusters:
          - name: backend
            endpoints: [ {{endpoints}} ]
            protocol: {{clusterProtocol}}
        {{clusterExtra}}
        """;
}
