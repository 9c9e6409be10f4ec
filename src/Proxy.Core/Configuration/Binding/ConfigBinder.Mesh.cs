using Proxy.Configuration.Files;
using Proxy.Configuration.Syntax;

namespace Proxy.Configuration.Binding;

/// <summary>Sidecar (mesh) section binding: identity, inbound with authorization, outbound services.</summary>
internal static partial class ConfigBinder
{
    private static readonly string[] MeshKeys = ["identity", "detect_timeout", "opaque_ports", "inbound", "outbound", "workload"];
    private static readonly string[] WorkloadKeys = ["name", "namespace", "app", "version"];
    private static readonly string[] IdentityKeys = ["cert", "key", "ca"];
    private static readonly string[] InboundKeys = ["port", "mode", "app_address", "authorization"];
    private static readonly string[] OutboundKeys = ["port", "services"];
    private static readonly string[] ServiceKeys = ["address", "cluster", "host", "identity", "protocol", "routes", "retries", "timeout", "multiplex_http1"];
    private static readonly string[] ServiceProtocolNames = ["auto", "http", "grpc", "tcp"];
    private static readonly MeshServiceProtocol[] ServiceProtocolValues = [MeshServiceProtocol.Auto, MeshServiceProtocol.Http, MeshServiceProtocol.Grpc, MeshServiceProtocol.Tcp];
    private static readonly string[] RuleKeys = ["allow", "deny"];
    private static readonly string[] RuleConditionKeys = ["principals", "ports", "methods", "paths"];
    private static readonly string[] ModeNames = ["strict", "permissive"];
    private static readonly MeshInboundMode[] ModeValues = [MeshInboundMode.Strict, MeshInboundMode.Permissive];

    private static MeshConfig? BindMesh(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, MeshKeys);
        if (map is null)
        {
            return null;
        }
        MeshIdentityConfig? identity = null;
        if (map.Require("identity") is { } identityNode && MappingView.Open(ctx, identityNode, map.ChildPath("identity"), IdentityKeys) is { } id)
        {
            string? cert = id.File("cert", required: true);
            string? key = id.File("key", required: true);
            string? ca = id.File("ca", required: true);
            if (ctx.Options.CheckFiles)
            {
                if (cert is not null && key is not null)
                {
                    ConfiguredFiles.CheckCertificateAndKey(id, "cert", cert, "key", key);
                }
                if (ca is not null)
                {
                    ConfiguredFiles.CheckCaBundle(id, "ca", ca);
                }
            }
            if (cert is not null && key is not null && ca is not null)
            {
                identity = new MeshIdentityConfig { Cert = cert, Key = key, Ca = ca };
            }
        }
        var inbound = map.Get("inbound") is { } inboundNode ? BindInbound(ctx, inboundNode, map.ChildPath("inbound")) : new MeshInboundConfig();
        var outbound = map.Get("outbound") is { } outboundNode ? BindOutbound(ctx, outboundNode, map.ChildPath("outbound")) : new MeshOutboundConfig();
        if (inbound.Port == outbound.Port)
        {
            map.Error("outbound", $"inbound and outbound cannot share port {inbound.Port}");
        }
        var config = new MeshConfig
        {
            Identity = identity ?? new MeshIdentityConfig { Cert = "", Key = "", Ca = "" },
            DetectTimeout = map.Duration("detect_timeout", TimeSpan.FromMilliseconds(100)),
            OpaquePorts = map.IntList("opaque_ports", 1, 65535),
            Inbound = inbound,
            Outbound = outbound,
            Workload = map.Get("workload") is { } workloadNode ? BindWorkload(ctx, workloadNode, map.ChildPath("workload")) : new MeshWorkloadConfig(),
        };
        return identity is null ? null : config;
    }

    private static MeshInboundConfig BindInbound(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, InboundKeys);
        var defaults = new MeshInboundConfig();
        if (map is null)
        {
            return defaults;
        }
        string appAddress = map.String("app_address") ?? defaults.AppAddress;
        if (!HostPort.IsValidHost(appAddress) && !System.Net.IPAddress.TryParse(appAddress, out _))
        {
            map.Error("app_address", $"'{appAddress}' is not a host or IP address (no port: the original destination port is kept)");
        }
        return new MeshInboundConfig
        {
            Port = map.Int("port", defaults.Port, 1, 65535),
            Mode = map.Enum("mode", defaults.Mode, ModeNames, ModeValues),
            AppAddress = appAddress,
            Authorization = map.Get("authorization") is { } rules ? BindList(ctx, rules, map.ChildPath("authorization"), BindRule) : ConfigList<AuthorizationRuleConfig>.Empty,
        };
    }

    /// <summary>A rule is <c>- allow: {conditions}</c> or <c>- deny: {conditions}</c>; empty conditions match all.</summary>
    private static AuthorizationRuleConfig? BindRule(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, RuleKeys);
        if (map is null)
        {
            return null;
        }
        if (map.Node.Entries.Count != 1 || (map.Node.Find("allow") is null && map.Node.Find("deny") is null))
        {
            ctx.Error(node, path, "a rule needs exactly one of 'allow' or 'deny'");
            return null;
        }
        string actionKey = map.Node.Entries[0].Key.Value;
        var action = actionKey == "allow" ? AuthorizationAction.Allow : AuthorizationAction.Deny;
        var conditionsNode = map.Get(actionKey);
        if (conditionsNode is null)
        {
            return new AuthorizationRuleConfig { Action = action };
        }
        var conditions = MappingView.Open(ctx, conditionsNode, map.ChildPath(actionKey), RuleConditionKeys);
        if (conditions is null)
        {
            return null;
        }
        var principals = conditions.StringList("principals");
        foreach (string principal in principals)
        {
            if (principal != "*" && !principal.StartsWith("spiffe://", StringComparison.Ordinal))
            {
                conditions.Error("principals", $"'{principal}' is not a SPIFFE ID (spiffe://trust-domain/path) or '*'");
            }
        }
        var methods = conditions.StringList("methods");
        foreach (string method in methods)
        {
            if (!IsToken(method))
            {
                conditions.Error("methods", $"'{method}' is not an HTTP method");
            }
        }
        var paths = conditions.StringList("paths");
        foreach (string p in paths)
        {
            if (!p.StartsWith('/'))
            {
                conditions.Error("paths", $"'{p}' must start with '/'");
            }
        }
        return new AuthorizationRuleConfig
        {
            Action = action,
            Principals = principals,
            Ports = conditions.IntList("ports", 1, 65535),
            Methods = methods,
            Paths = paths,
        };
    }

    private static MeshWorkloadConfig BindWorkload(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, WorkloadKeys);
        return map is null ? new MeshWorkloadConfig() : new MeshWorkloadConfig
        {
            Name = WorkloadValue(map, "name"),
            Namespace = WorkloadValue(map, "namespace"),
            App = WorkloadValue(map, "app"),
            Version = WorkloadValue(map, "version"),
        };
    }

    /// <summary>A workload label, with <c>${VARIABLE}</c> replaced by the environment's value (the downward API's way in).</summary>
    private static string? WorkloadValue(MappingView map, string key) =>
        map.String(key) is { } text ? ExpandVariables(text, message => map.Error(key, message)) : null;

    /// <summary>
    /// <paramref name="text"/> with each <c>${VARIABLE}</c> replaced by the environment's value; null (after
    /// <paramref name="report"/>) when a variable is unset or a reference unclosed, and for an empty result.
    /// </summary>
    private static string? ExpandVariables(string text, Action<string> report)
    {
        var expanded = new System.Text.StringBuilder();
        var at = 0;
        while (text.IndexOf("${", at, StringComparison.Ordinal) is var start and >= 0)
        {
            var end = text.IndexOf('}', start);
            if (end < 0)
            {
                report($"'{text}' opens '${{' without a closing '}}'; write ${{VARIABLE}}");
                return null;
            }

            var variable = text[(start + 2)..end];
            if (Environment.GetEnvironmentVariable(variable) is not { Length: > 0 } value)
            {
                report($"the environment variable {variable} is not set; set it (the downward API can) or write the value itself");
                return null;
            }

            expanded.Append(text, at, start - at).Append(value);
            at = end + 1;
        }

        expanded.Append(text, at, text.Length - at);
        return expanded.Length > 0 ? expanded.ToString() : null;
    }

    private static MeshOutboundConfig BindOutbound(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, OutboundKeys);
        var defaults = new MeshOutboundConfig();
        return map is null ? defaults : new MeshOutboundConfig
        {
            Port = map.Int("port", defaults.Port, 1, 65535),
            Services = map.Get("services") is { } services ? BindList(ctx, services, map.ChildPath("services"), BindService) : ConfigList<MeshServiceConfig>.Empty,
        };
    }

    private static MeshServiceConfig? BindService(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, ServiceKeys);
        if (map is null)
        {
            return null;
        }
        var address = map.Address("address", required: true);
        string? cluster = map.ClusterName("cluster", required: true);
        string? identity = map.String("identity");
        if (identity is not null && !identity.StartsWith("spiffe://", StringComparison.Ordinal))
        {
            map.Error("identity", $"'{identity}' is not a SPIFFE ID (spiffe://trust-domain/path)");
        }
        var protocol = map.Enum("protocol", MeshServiceProtocol.Auto, ServiceProtocolNames, ServiceProtocolValues);
        var routes = map.Get("routes") is { } routesNode ? BindList(ctx, routesNode, map.ChildPath("routes"), BindRoute) : ConfigList<RouteConfig>.Empty;
        var retries = map.Get("retries") is { } retriesNode ? BindRetries(ctx, retriesNode, map.ChildPath("retries")) : null;
        var timeout = map.OptionalDuration("timeout");
        var multiplex = map.Bool("multiplex_http1", true);
        if (protocol == MeshServiceProtocol.Tcp)
        {
            // Opaque traffic is balanced per connection: nothing per request could apply.
            foreach (var key in (string[])["routes", "retries", "timeout", "multiplex_http1"])
            {
                if (map.Has(key))
                {
                    map.Error(key, $"a service with protocol: tcp is carried as opaque bytes, so '{key}' cannot apply; remove it or declare protocol: http, grpc or auto");
                }
            }
        }
        else if (map.Get("routes") is ConfigSequence { Items.Count: 0 })
        {
            map.Error("routes", "an empty 'routes' list would send nothing anywhere; remove the key for one catch-all route to the service's cluster, or list routes");
        }
        return address is null || cluster is null ? null : new MeshServiceConfig
        {
            Address = address.Value, Cluster = cluster, Host = map.String("host"), Identity = identity, Protocol = protocol, Routes = routes, Retries = retries, Timeout = timeout,
            MultiplexHttp1 = multiplex,
        };
    }
}
