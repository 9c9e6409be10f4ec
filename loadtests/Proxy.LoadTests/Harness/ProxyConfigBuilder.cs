using System.Text;

namespace Proxy.LoadTests.Harness;

/// <summary>Writes the YAML config of a scenario's proxy: a tcp and an http listener in front of one cluster.</summary>
public static class ProxyConfigBuilder
{
    /// <summary>The config text for the given ports, endpoints and options.</summary>
    public static string Build(int adminPort, int tcpPort, int httpPort, IReadOnlyList<string> endpoints, ProxyConfigOptions options)
    {
        var rotated = new List<string>(endpoints.Count);
        for (int i = 0; i < endpoints.Count; i++)
        {
            rotated.Add(endpoints[(i + options.EndpointRotation) % endpoints.Count]);
        }

        var yaml = new StringBuilder();
        yaml.Append("admin: { address: 127.0.0.1:").Append(adminPort).Append(" }\n");
        yaml.Append("log: { level: ").Append(options.LogLevel).Append(" }\n");
        yaml.Append("listeners:\n");
        yaml.Append("  - { name: tcp, address: 127.0.0.1:").Append(tcpPort).Append(", protocol: tcp, cluster: backend }\n");
        yaml.Append("  - name: web\n");
        yaml.Append("    address: 127.0.0.1:").Append(httpPort).Append('\n');
        yaml.Append("    protocol: http\n");
        if (options.HeaderTimeout is not null)
        {
            yaml.Append("    limits: { header_timeout: ").Append(options.HeaderTimeout).Append(" }\n");
        }

        yaml.Append("    routes:\n");
        yaml.Append("      - match: { path_prefix: / }\n");
        yaml.Append("        cluster: backend\n");
        if (options.Retries is not null)
        {
            yaml.Append("        retries: ").Append(options.Retries).Append('\n');
        }

        yaml.Append("clusters:\n");
        yaml.Append("  - name: backend\n");
        yaml.Append("    endpoints: [ ").Append(string.Join(", ", rotated)).Append(" ]\n");
        yaml.Append("    load_balancer: ").Append(options.LoadBalancer).Append('\n');
        return yaml.ToString();
    }
}
