using Proxy.Configuration;

namespace Proxy.Tests.Configuration;

public class ConfigErrorTests
{
    [Fact]
    public void LoadFile_ManyErrors_ReportsEveryOneWithItsLine()
    {
        var result = ConfigLoader.LoadFile(ConfigTestData.PathOf("many-errors.yaml"));

        Assert.False(result.Success);
        Assert.Null(result.Config);
        string all = string.Join("\n", result.Errors);
        (int Line, string Path, string Message)[] expected =
        [
            (1, "admin.address", "has no port"),
            (2, "drain_timeout", "is not a duration"),
            (3, "colour", "unknown key 'colour'; allowed keys: admin, stats, listeners, clusters, mesh, log, drain_timeout"),
            (7, "listeners[0].protocol", "unknown value 'htp'; expected one of: tcp, http, auto"),
            (9, "listeners[0].routes[0].match.headers[0].regex", "invalid regular expression"),
            (10, "listeners[0].routes[0].cluster", "unknown cluster 'nowhere'"),
            (11, "listeners[0].routes[1].match.path_prefix", "must start with '/'"),
            (12, "listeners[0].routes[1].split[0].weight", "out of range"),
            (13, "listeners[0].routes[1].retries.retry_on[1]", "unknown value 'sometimes'"),
            (14, "listeners[0].routes[1].mirror.cluster", "unknown cluster 'ghost'"),
            (14, "listeners[0].routes[1].mirror.percent", "150 is out of range (0 to 100)"),
            (15, "listeners[1].cluster", "missing required key 'cluster'"),
            (15, "listeners[1].name", "duplicate listener name 'web'"),
            (16, "listeners[1].address", "clashes with listener 'web'"),
            (18, "listeners[2].name", "missing required key 'name'"),
            (18, "listeners[2].address", "port '99999' is out of range"),
            (20, "listeners[2].routes[0]", "expected a mapping, found a scalar"),
            (24, "clusters[0].load_balancer", "unknown load balancer 'fastest'; known: round_robin, random, least_request, peak_ewma, ring_hash, maglev"),
            (25, "clusters[0].connect_timeout", "'soon' is not a duration"),
            (26, "clusters[1].name", "duplicate cluster name 'api'"),
            (27, "clusters[1].endpoints[0]", "'10.0.0.6' has no port"),
            (29, "mesh.identity.ca", "missing required key 'ca'"),
            (30, "mesh.inbound.mode", "unknown value 'lax'; expected one of: strict, permissive"),
            (33, "mesh.outbound.services[0].cluster", "unknown cluster 'missing'"),
        ];
        foreach (var (line, path, message) in expected)
        {
            Assert.True(
                HasError(result.Errors, line, path, message),
                $"expected line {line} {path}: {message}\nin:\n{all}");
        }
        Assert.True(expected.Length == result.Errors.Count, "unexpected extra errors:\n" + all);
        for (int i = 1; i < result.Errors.Count; i++)
        {
            Assert.True(result.Errors[i - 1].Line <= result.Errors[i].Line, "errors are sorted by line");
        }
    }

    // An unknown key can also leave a required one missing, so some inputs give two errors;
    // they must include the expected one, and every error must be about that place.
    private static void AssertHasError(ConfigLoadResult result, string path, string message)
    {
        string all = string.Join("\n", result.Errors);
        Assert.False(result.Success);
        Assert.True(HasError(result.Errors, path, message), $"expected {path}: {message}\nin:\n{all}");
        Assert.True(result.Errors.Count <= 2, "too many errors:\n" + all);
    }

    private static bool HasError(IReadOnlyList<ConfigError> errors, string path, string message)
    {
        foreach (var error in errors)
        {
            if (error.Path == path && error.Message.Contains(message, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    private static bool HasError(IReadOnlyList<ConfigError> errors, int line, string path, string message)
    {
        foreach (var error in errors)
        {
            if (error.Line == line && error.Path == path && error.Message.Contains(message, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    [Fact]
    public void ToString_Error_FormatsFileLineColumnPathMessage()
    {
        var error = new ConfigError("proxy.yaml", 3, 7, "listeners[1].routes[0].cluster", "unknown cluster 'x'");

        Assert.Equal("proxy.yaml:3:7: listeners[1].routes[0].cluster: unknown cluster 'x'", error.ToString());
    }

    [Fact]
    public void LoadText_SyntaxError_ReportsParserLocation()
    {
        var error = ConfigTestData.SingleError("listeners:\n  - name: web\n    address: [0.0.0.0:8080\n");

        Assert.Equal(4, error.Line);
        Assert.StartsWith("syntax error: ", error.Message);
        Assert.DoesNotContain("Line:", error.Message);
    }

    [Fact]
    public void LoadText_BadIndentation_ReportsSyntaxError()
    {
        var error = ConfigTestData.SingleError("admin:\n  address: 127.0.0.1:1\n address: x\n");

        Assert.Equal(3, error.Line);
        Assert.StartsWith("syntax error", error.Message);
    }

    [Fact]
    public void LoadText_JsonSyntaxError_ReportsLine()
    {
        var error = ConfigTestData.SingleError("{\n  \"admin\": { \"address\": \"127.0.0.1:1\" \n  \"log\": {}\n}\n");

        Assert.Equal(3, error.Line);
    }

    [Theory]
    [InlineData("", "the configuration is empty")]
    [InlineData("# only a comment\n", "the configuration is empty")]
    [InlineData("- a\n- b\n", "expected a mapping, found a sequence")]
    [InlineData("admin: {}\n---\nadmin: {}\n", "only one YAML document")]
    [InlineData("log: {}\nlog: {}\n", "duplicate key 'log'")]
    [InlineData("log: *nothing\n", "unknown anchor")]
    public void LoadText_BadDocument_ReportsError(string yaml, string message)
    {
        Assert.Contains(message, ConfigTestData.SingleError(yaml).Message);
    }

    [Theory]
    // Wrong types.
    [InlineData("admin: 5", "admin", "expected a mapping, found a scalar")]
    [InlineData("listeners: [ [ a ] ]", "listeners[0]", "expected a mapping, found a sequence")]
    [InlineData("log: { level: [ info ] }", "log.level", "expected a string, found a sequence")]
    [InlineData("clusters: [ { name: a, endpoints: [ 1.2.3.4:5 ], pool: { max_idle: many } } ]", "clusters[0].pool.max_idle", "expected a whole number, found 'many'")]
    [InlineData("clusters: [ { name: a, endpoints: [ 1.2.3.4:5 ], pool: { max_idle: { a: 1 } } } ]", "clusters[0].pool.max_idle", "expected a number, found a mapping")]
    [InlineData("clusters: [ { name: a, endpoints: [ 1.2.3.4:5 ], tls: { insecure_skip_verify: yes } } ]", "clusters[0].tls.insecure_skip_verify", "expected true or false, found 'yes'")]
    [InlineData("clusters: [ { name: a, endpoints: [ 1.2.3.4:5 ], outlier_detection: { max_ejection_percent: lots } } ]", "clusters[0].outlier_detection.max_ejection_percent", "expected a number, found 'lots'")]
    // Unknown keys and enum values.
    [InlineData("log: { colour: red }", "log.colour", "unknown key 'colour'; allowed keys: format, level, access_log")]
    [InlineData("log: { format: xml }", "log.format", "unknown value 'xml'; expected one of: text, json")]
    [InlineData("log: { level: trace }", "log.level", "unknown value 'trace'; expected one of: debug, info, warn, error")]
    [InlineData("clusters: [ { name: a, endpoints: [ 1.2.3.4:5 ], protocol: http3 } ]", "clusters[0].protocol", "unknown value 'http3'; expected one of: http1, http2")]
    [InlineData("clusters: [ { name: a, endpoints: [ 1.2.3.4:5 ], health_check: { type: udp } } ]", "clusters[0].health_check.type", "unknown value 'udp'")]
    [InlineData("clusters: [ { name: a, endpoints: [ 1.2.3.4:5 ], tls: { alpn: [ spdy ] } } ]", "clusters[0].tls.alpn[0]", "unknown value 'spdy'; expected one of: h2, http/1.1")]
    [InlineData("clusters: [ { name: a, endpoints: [ 1.2.3.4:5 ], load_balancer: fastest } ]", "clusters[0].load_balancer", "unknown load balancer 'fastest'")]
    // Durations.
    [InlineData("drain_timeout: 5", "drain_timeout", "'5' is not a duration")]
    [InlineData("drain_timeout: 5 s", "drain_timeout", "is not a duration")]
    [InlineData("drain_timeout: -5s", "drain_timeout", "is not a duration")]
    [InlineData("drain_timeout: 1.2.3s", "drain_timeout", "bad number")]
    [InlineData("clusters: [ { name: a, endpoints: [ 1.2.3.4:5 ], connect_timeout: 0s } ]", "clusters[0].connect_timeout", "must be greater than 0")]
    // Addresses.
    [InlineData("admin: { address: localhost }", "admin.address", "has no port")]
    [InlineData("admin: { address: 'localhost:' }", "admin.address", "has no port")]
    [InlineData("admin: { address: localhost:70000 }", "admin.address", "out of range")]
    [InlineData("admin: { address: localhost:65536 }", "admin.address", "out of range")]
    [InlineData("admin: { address: localhost:http }", "admin.address", "out of range")]
    [InlineData("admin: { address: '::1:80' }", "admin.address", "write IPv6 addresses in brackets")]
    [InlineData("admin: { address: '[::1' }", "admin.address", "missing the closing ']'")]
    [InlineData("admin: { address: '[::1]' }", "admin.address", "has no port")]
    [InlineData("admin: { address: '[nope]:80' }", "admin.address", "not an IPv6 address")]
    [InlineData("admin: { address: 'bad host:80' }", "admin.address", "not a valid host")]
    // Required fields and listener shape.
    [InlineData("listeners: [ { address: 0.0.0.0:1, protocol: tcp, cluster: a } ]\nclusters: [ { name: a, endpoints: [ 1.2.3.4:5 ] } ]", "listeners[0].name", "missing required key 'name'")]
    [InlineData("listeners: [ { name: l, protocol: tcp, cluster: a } ]\nclusters: [ { name: a, endpoints: [ 1.2.3.4:5 ] } ]", "listeners[0].address", "missing required key 'address'")]
    [InlineData("listeners: [ { name: l, address: 0.0.0.0:1, protocol: tcp } ]", "listeners[0].cluster", "missing required key 'cluster'")]
    [InlineData("listeners: [ { name: l, address: 0.0.0.0:1 } ]", "listeners[0].routes", "missing required key 'routes'")]
    [InlineData("listeners: [ { name: l, address: 0.0.0.0:1, routes: [] } ]", "listeners[0].routes", "at least one route")]
    [InlineData("listeners: [ { name: l, address: 0.0.0.0:1, protocol: tcp, cluster: a, routes: [ { cluster: a } ] } ]\nclusters: [ { name: a, endpoints: [ 1.2.3.4:5 ] } ]", "listeners[0].routes", "a tcp listener takes 'cluster', not 'routes'")]
    [InlineData("listeners: [ { name: l, address: 0.0.0.0:1, cluster: a, routes: [ { cluster: a } ] } ]\nclusters: [ { name: a, endpoints: [ 1.2.3.4:5 ] } ]", "listeners[0].cluster", "not 'cluster'")]
    [InlineData("clusters: [ { endpoints: [ 1.2.3.4:5 ] } ]", "clusters[0].name", "missing required key 'name'")]
    [InlineData("clusters: [ { name: a } ]", "clusters[0].endpoints", "missing required key 'endpoints'")]
    [InlineData("clusters: [ { name: a, endpoints: [] } ]", "clusters[0].endpoints", "at least one endpoint")]
    [InlineData("clusters: [ { name: a, endpoints: [ { weight: 2 } ] } ]", "clusters[0].endpoints[0].address", "missing required key 'address'")]
    [InlineData("clusters: [ { name: a, endpoints: [ 1.2.3.4:5, { address: 1.2.3.4:5 } ] } ]", "clusters[0].endpoints[1]", "duplicate endpoint 1.2.3.4:5")]
    [InlineData("clusters: [ { name: a, endpoints: [ { address: 1.2.3.4:5, weight: 0 } ] } ]", "clusters[0].endpoints[0].weight", "out of range")]
    [InlineData("clusters: [ { name: '', endpoints: [ 1.2.3.4:5 ] } ]", "clusters[0].name", "must not be empty")]
    // Duplicates.
    [InlineData("clusters: [ { name: a, endpoints: [ 1.2.3.4:5 ] }, { name: a, endpoints: [ 1.2.3.4:6 ] } ]", "clusters[1].name", "duplicate cluster name 'a' (also clusters[0], line 1)")]
    // Hash keys.
    [InlineData("clusters: [ { name: a, endpoints: [ 1.2.3.4:5 ], load_balancer: maglev, hash_on: cookie } ]", "clusters[0].hash_on", "expected client_ip or header:NAME")]
    [InlineData("clusters: [ { name: a, endpoints: [ 1.2.3.4:5 ], hash_on: client_ip } ]", "clusters[0].hash_on", "applies to ring_hash and maglev")]
    // Cluster-level TLS and health checks.
    [InlineData("clusters: [ { name: a, endpoints: [ 1.2.3.4:5 ], tls: { cert: c.pem } } ]", "clusters[0].tls.cert", "needs both 'cert' and 'key'")]
    [InlineData("clusters: [ { name: a, endpoints: [ 1.2.3.4:5 ], health_check: { type: tcp, path: / } } ]", "clusters[0].health_check.path", "a tcp health check has no path")]
    [InlineData("clusters: [ { name: a, endpoints: [ 1.2.3.4:5 ], health_check: { expected_statuses: [ 200, 700 ] } } ]", "clusters[0].health_check.expected_statuses[1]", "700 is out of range (100 to 599)")]
    // Percentages.
    [InlineData("clusters: [ { name: a, endpoints: [ 1.2.3.4:5 ], outlier_detection: { max_ejection_percent: -1 } } ]", "clusters[0].outlier_detection.max_ejection_percent", "out of range (0 to 100)")]
    public void LoadText_BadValue_ReportsPathAndMessage(string yaml, string path, string message)
    {
        var error = ConfigTestData.SingleError(yaml);

        Assert.Equal(path, error.Path);
        Assert.Contains(message, error.Message);
        Assert.True(error.Line >= 1 && error.Column >= 1);
    }

    private const string Clusters = "\nclusters: [ { name: a, endpoints: [ 1.2.3.4:5 ] }, { name: b, endpoints: [ 1.2.3.4:6 ] } ]";

    [Theory]
    [InlineData("{ cluster: nope }", "routes[0].cluster", "unknown cluster 'nope'; defined clusters: a, b")]
    [InlineData("{ }", "routes[0].cluster", "a route needs 'cluster' or 'split'")]
    [InlineData("{ cluster: a, split: [ { cluster: b, weight: 1 } ] }", "routes[0].split", "either 'cluster' or 'split', not both")]
    [InlineData("{ split: [] }", "routes[0].split", "at least one cluster")]
    [InlineData("{ split: [ { cluster: a, weight: 0 } ] }", "routes[0].split[0].weight", "0 is out of range")]
    [InlineData("{ split: [ { cluster: a, weight: -3 } ] }", "routes[0].split[0].weight", "-3 is out of range")]
    [InlineData("{ split: [ { cluster: a } ] }", "routes[0].split[0].weight", "missing required key 'weight'")]
    [InlineData("{ split: [ { cluster: zz, weight: 1 } ] }", "routes[0].split[0].cluster", "unknown cluster 'zz'")]
    [InlineData("{ cluster: a, mirror: { cluster: zz } }", "routes[0].mirror.cluster", "unknown cluster 'zz'")]
    [InlineData("{ cluster: a, mirror: { cluster: b, percent: 101 } }", "routes[0].mirror.percent", "out of range (0 to 100)")]
    [InlineData("{ cluster: a, timeout: fast }", "routes[0].timeout", "'fast' is not a duration")]
    [InlineData("{ cluster: a, match: { path_prefix: api } }", "routes[0].match.path_prefix", "must start with '/'")]
    [InlineData("{ cluster: a, match: { path_prefix: /a, path_exact: /b } }", "routes[0].match.path_exact", "cannot both be set")]
    [InlineData("{ cluster: a, match: { host: 'a b' } }", "routes[0].match.host", "is not a host name")]
    [InlineData("{ cluster: a, match: { method: 'GE T' } }", "routes[0].match.method", "is not an HTTP method")]
    [InlineData("{ cluster: a, match: { method: GET, methods: [ POST ] } }", "routes[0].match.methods", "either 'method' or 'methods'")]
    [InlineData("{ cluster: a, match: { headers: [ { name: x-v, regex: '(' } ] } }", "routes[0].match.headers[0].regex", "invalid regular expression")]
    [InlineData("{ cluster: a, match: { headers: [ { name: x-v, exact: a, prefix: b } ] } }", "routes[0].match.headers[0]", "exactly one of: exact, prefix, regex, present")]
    [InlineData("{ cluster: a, match: { headers: [ { exact: a } ] } }", "routes[0].match.headers[0].name", "missing required key 'name'")]
    [InlineData("{ cluster: a, match: { headers: [ { name: x, equals: a } ] } }", "routes[0].match.headers[0].equals", "unknown key 'equals'; allowed keys: name, exact, prefix, regex, present")]
    [InlineData("{ cluster: a, match: { headers: { 'bad name': a } } }", "routes[0].match.headers.bad name", "is not a header name")]
    [InlineData("{ cluster: a, match: { headers: x-canary } }", "routes[0].match.headers", "expected a mapping of header names to values")]
    [InlineData("{ cluster: a, retries: { retry_on: [ 5xx, often ] } }", "routes[0].retries.retry_on[1]", "unknown value 'often'; expected one of: connect-failure, reset, 5xx, gateway-error, retriable-status-codes, cancelled, deadline-exceeded, resource-exhausted, unavailable")]
    [InlineData("{ cluster: a, retries: { retry_on: [ retriable-status-codes ] } }", "routes[0].retries.retry_on", "needs 'status_codes'")]
    [InlineData("{ cluster: a, retries: { status_codes: [ 99 ] } }", "routes[0].retries.status_codes[0]", "99 is out of range (100 to 599)")]
    [InlineData("{ cluster: a, retries: { attempts: -1 } }", "routes[0].retries.attempts", "out of range")]
    [InlineData("{ cluster: a, retries: { backoff_base: 1s, backoff_max: 100ms } }", "routes[0].retries.backoff_max", "less than backoff_base")]
    [InlineData("{ cluster: a, retries: { budget: { ratio: 2 } } }", "routes[0].retries.budget.ratio", "out of range (0 to 1)")]
    [InlineData("{ cluster: a, retries: { budget: always } }", "routes[0].retries.budget", "expected 'none' or a mapping { ratio, min_per_second }, found 'always'")]
    [InlineData("{ cluster: a, fault: { } }", "routes[0].fault", "a fault needs 'delay' or 'abort'")]
    [InlineData("{ cluster: a, fault: { delay: { percent: 5 } } }", "routes[0].fault.delay.duration", "missing required key 'duration'")]
    [InlineData("{ cluster: a, fault: { delay: { duration: 1s, percent: 100.5 } } }", "routes[0].fault.delay.percent", "out of range (0 to 100)")]
    [InlineData("{ cluster: a, fault: { abort: { status: 42 } } }", "routes[0].fault.abort.status", "42 is out of range (200 to 599)")]
    [InlineData("{ cluster: a, rate_limit: { burst: 5 } }", "routes[0].rate_limit.requests_per_second", "missing required key")]
    public void LoadText_BadRoute_ReportsPathAndMessage(string route, string path, string message)
    {
        var result = ConfigTestData.Load("listeners: [ { name: l, address: 0.0.0.0:1, routes: [ " + route + " ] } ]" + Clusters);

        AssertHasError(result, "listeners[0]." + path, message);
    }

    [Theory]
    [InlineData("{ certificates: [] }", "tls.certificates", "at least one certificate")]
    [InlineData("{ alpn: [ h2 ] }", "tls.certificates", "missing required key 'certificates'")]
    [InlineData("{ certificates: [ { cert: a.pem } ] }", "tls.certificates[0].key", "missing required key 'key'")]
    [InlineData("{ certificates: [ { cert: a.pem, key: a.key } ], require_client_cert: true }", "tls.require_client_cert", "needs client_ca")]
    [InlineData("{ certificates: [ { cert: a.pem, key: a.key } ], alpn: [ h3 ] }", "tls.alpn[0]", "unknown value 'h3'")]
    public void LoadText_BadServerTls_ReportsPathAndMessage(string tls, string path, string message)
    {
        var error = ConfigTestData.SingleError("listeners: [ { name: l, address: 0.0.0.0:1, protocol: tcp, cluster: a, tls: " + tls + " } ]" + Clusters);

        Assert.Equal("listeners[0]." + path, error.Path);
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData("{ name: l, address: 0.0.0.0:1, protocol: tcp, cluster: a }", "listeners[1].name", "duplicate listener name 'l'")]
    [InlineData("{ name: m, address: 0.0.0.0:80, protocol: tcp, cluster: a }", "listeners[1].address", "clashes with listener 'l'")]
    [InlineData("{ name: m, address: 127.0.0.1:80, protocol: tcp, cluster: a }", "listeners[1].address", "clashes with listener 'l'")]
    [InlineData("{ name: l, address: 0.0.0.0:80, protocol: tcp, cluster: a }", "listeners[1].address", "clashes")]
    [InlineData("{ name: m, address: 0.0.0.0:81, protocol: tcp, cluster: a, limits: { max_header_bytes: 20MiB } }", "listeners[1].limits.max_header_bytes", "not a size")]
    [InlineData("{ name: m, address: 0.0.0.0:81, protocol: tcp, cluster: a, limits: { max_body_bytes: 1TB } }", "listeners[1].limits.max_body_bytes", "not a size")]
    [InlineData("{ name: m, address: 0.0.0.0:81, protocol: ftp, cluster: a }", "listeners[1].protocol", "unknown value 'ftp'; expected one of: tcp, http, auto")]
    public void LoadText_BadSecondListener_ReportsPathAndMessage(string listener, string path, string message)
    {
        var result = ConfigTestData.Load("listeners: [ { name: l, address: 0.0.0.0:80, protocol: tcp, cluster: a }, " + listener + " ]" + Clusters);

        Assert.False(result.Success);
        Assert.Contains(result.Errors, e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void LoadText_ListenersOnDifferentHostsSamePort_AreValid()
    {
        ConfigTestData.LoadValid("listeners: [ { name: l, address: 127.0.0.1:80, protocol: tcp, cluster: a }, { name: m, address: 127.0.0.2:80, protocol: tcp, cluster: a } ]" + Clusters);
    }

    [Theory]
    [InlineData("{ }", "mesh.identity", "missing required key 'identity'")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, detect_timeout: soon }", "mesh.detect_timeout", "is not a duration")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, opaque_ports: [ 0 ] }", "mesh.opaque_ports[0]", "out of range (1 to 65535)")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, inbound: { mode: loose } }", "mesh.inbound.mode", "unknown value 'loose'; expected one of: strict, permissive")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, inbound: { app_address: '127.0.0.1:80' } }", "mesh.inbound.app_address", "not a host or IP address")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, inbound: { port: 15001 } }", "mesh.outbound", "cannot share port 15001")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, inbound: { authorization: [ { allow: {}, deny: {} } ] } }", "mesh.inbound.authorization[0]", "exactly one of 'allow' or 'deny'")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, inbound: { authorization: [ { permit: {} } ] } }", "mesh.inbound.authorization[0].permit", "unknown key 'permit'; allowed keys: allow, deny")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, inbound: { authorization: [ { allow: { principals: [ web ] } } ] } }", "mesh.inbound.authorization[0].allow.principals", "not a SPIFFE ID")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, inbound: { authorization: [ { allow: { paths: [ api ] } } ] } }", "mesh.inbound.authorization[0].allow.paths", "must start with '/'")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, inbound: { authorization: [ { deny: { users: [ x ] } } ] } }", "mesh.inbound.authorization[0].deny.users", "unknown key 'users'")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, outbound: { services: [ { address: 10.0.0.1:80, cluster: zz } ] } }", "mesh.outbound.services[0].cluster", "unknown cluster 'zz'")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, outbound: { services: [ { address: 10.0.0.1, cluster: a } ] } }", "mesh.outbound.services[0].address", "has no port")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, outbound: { services: [ { address: 10.0.0.1:80, cluster: a, identity: api } ] } }", "mesh.outbound.services[0].identity", "not a SPIFFE ID")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, outbound: { services: [ { address: 10.0.0.1:80, cluster: a, protocol: mysql } ] } }", "mesh.outbound.services[0].protocol", "unknown value 'mysql'; expected one of: auto, http, grpc, tcp")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, outbound: { services: [ { address: 10.0.0.1:80, cluster: a, protocol: tcp, routes: [ { cluster: a } ] } ] } }", "mesh.outbound.services[0].routes", "protocol: tcp is carried as opaque bytes")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, outbound: { services: [ { address: 10.0.0.1:80, cluster: a, protocol: tcp, retries: { attempts: 2 } } ] } }", "mesh.outbound.services[0].retries", "cannot apply")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, outbound: { services: [ { address: 10.0.0.1:80, cluster: a, routes: [] } ] } }", "mesh.outbound.services[0].routes", "an empty 'routes' list")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, outbound: { services: [ { address: 10.0.0.1:80, cluster: a, routes: [ { cluster: nope } ] } ] } }", "mesh.outbound.services[0].routes[0].cluster", "unknown cluster 'nope'")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, outbound: { services: [ { address: 10.0.0.1:80, cluster: a, routes: [ { split: [ { cluster: a, weight: 1 }, { cluster: b2, weight: 1 } ] } ] } ] } }", "mesh.outbound.services[0].routes[0].split[1].cluster", "unknown cluster 'b2'")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, outbound: { services: [ { address: 10.0.0.1:80, cluster: a, timeout: soon } ] } }", "mesh.outbound.services[0].timeout", "is not a duration")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, outbound: { services: [ { address: 10.0.0.1:80, cluster: a, protocol: tcp, multiplex_http1: true } ] } }", "mesh.outbound.services[0].multiplex_http1", "cannot apply")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, outbound: { services: [ { address: 10.0.0.1:80, cluster: a, multiplex_http1: sometimes } ] } }", "mesh.outbound.services[0].multiplex_http1", "true or false")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, workload: { namespace: \"${PROXY_TEST_SURELY_UNSET_VARIABLE}\" } }", "mesh.workload.namespace", "the environment variable PROXY_TEST_SURELY_UNSET_VARIABLE is not set")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, workload: { name: \"web-${POD\" } }", "mesh.workload.name", "without a closing")]
    [InlineData("{ identity: { cert: c, key: k, ca: a }, workload: { team: a } }", "mesh.workload.team", "unknown key 'team'; allowed keys: name, namespace, app, version")]
    public void LoadText_BadMesh_ReportsPathAndMessage(string mesh, string path, string message)
    {
        AssertHasError(ConfigTestData.Load("mesh: " + mesh + Clusters), path, message);
    }

    [Fact]
    public void LoadText_UnknownKey_PointsAtTheKey()
    {
        var error = ConfigTestData.SingleError("admin:\n  address: 127.0.0.1:1\n  adress: 127.0.0.1:2\n");

        Assert.Equal((3, 3), (error.Line, error.Column));
        Assert.Equal("admin.adress", error.Path);
    }

    [Fact]
    public void LoadText_MissingKey_PointsAtTheMapping()
    {
        var error = ConfigTestData.SingleError("clusters:\n  - endpoints: [ 1.2.3.4:5 ]\n");

        Assert.Equal((2, 5), (error.Line, error.Column));
    }
}
