using Proxy.Configuration;

namespace Proxy.Tests.Configuration;

/// <summary>The retry budget default, single-value lists, and every error of a listener at once.</summary>
public class ConfigDefaultsAndListsTests
{
    private static string Route(string retries) => $$"""
        listeners:
          - name: web
            address: 127.0.0.1:8080
            routes:
              - cluster: api
                retries: {{retries}}
        clusters:
          - { name: api, endpoints: [ 10.0.0.5:9000 ] }
        """;

    [Fact]
    public void Retries_WithoutBudget_GetLinkerdDefaultBudget()
    {
        var retries = ConfigTestData.LoadValid(Route("{ attempts: 3 }")).Listeners[0].Routes[0].Retries!;

        Assert.Equal(new RetryBudgetConfig { Ratio = 0.2, MinPerSecond = 10 }, retries.Budget);
    }

    [Fact]
    public void Retries_BudgetNone_HaveNoBudget()
    {
        var retries = ConfigTestData.LoadValid(Route("{ attempts: 3, budget: none }")).Listeners[0].Routes[0].Retries!;

        Assert.Null(retries.Budget);
    }

    [Fact]
    public void ConfigWriter_BudgetNone_RoundTrips()
    {
        var config = ConfigTestData.LoadValid(Route("{ attempts: 3, budget: none }"));

        var json = ConfigWriter.ToJson(config);

        Assert.Contains("\"budget\": \"none\"", json);
        Assert.Equal(config, ConfigTestData.LoadValid(json));
    }

    [Fact]
    public void Endpoints_SingleScalar_IsOneEndpoint()
    {
        var config = ConfigTestData.LoadValid("""
            listeners:
              - { name: t, address: 127.0.0.1:26000, protocol: tcp, cluster: c }
            clusters:
              - name: c
                endpoints: 127.0.0.1:26001
            """);

        Assert.Equal(new HostPort("127.0.0.1", 26001), Assert.Single(config.Clusters[0].Endpoints).Address);
    }

    [Fact]
    public void EveryListKey_SingleItemWrittenAlone_IsAOneItemList()
    {
        // Each list key, given its one item without brackets: scalars and mappings alike.
        var config = ConfigTestData.LoadValid("""
            listeners:
              name: web
              address: 127.0.0.1:8080
              tls:
                certificates: { cert: c.pem, key: k.pem, sni: example.com }
                alpn: h2
              routes:
                match: { methods: GET }
                split: { cluster: api, weight: 1 }
                retries: { retry_on: 5xx, status_codes: 503 }
            clusters:
              name: api
              endpoints: { address: 10.0.0.5:9000, weight: 2 }
              health_check: { expected_statuses: 204 }
            mesh:
              identity: { cert: c.pem, key: k.pem, ca: ca.pem }
              opaque_ports: 3306
              inbound:
                authorization: { allow: { principals: "*", ports: 8080, methods: GET, paths: /api } }
              outbound:
                services: { address: 10.96.0.10:80, cluster: api }
            """);

        var web = Assert.Single(config.Listeners);
        Assert.Equal(["example.com"], Assert.Single(web.Tls!.Certificates).Sni);
        Assert.Equal(["h2"], web.Tls.Alpn);
        var route = Assert.Single(web.Routes);
        Assert.Equal(["GET"], route.Match.Methods);
        Assert.Equal("api", Assert.Single(route.Split).Cluster);
        Assert.Equal(["5xx"], route.Retries!.RetryOn);
        Assert.Equal([503], route.Retries.StatusCodes);
        var api = Assert.Single(config.Clusters);
        Assert.Equal(2, Assert.Single(api.Endpoints).Weight);
        Assert.Equal([204], api.HealthCheck!.ExpectedStatuses);
        Assert.Equal([3306], config.Mesh!.OpaquePorts);
        var rule = Assert.Single(config.Mesh.Inbound.Authorization);
        Assert.Equal(["/api"], rule.Paths);
        Assert.Equal("api", Assert.Single(config.Mesh.Outbound.Services).Cluster);
    }

    [Fact]
    public void Listener_AddressWithoutPort_OtherErrorsOfTheListenerStillReported()
    {
        var result = ConfigTestData.Load("""
            listeners:
              - name: web
                address: 127.0.0.1
                idle_timeout: soon
                limits: { max_header_bytes: lots }
                rate_limit: { burst: 5 }
                tls: { certificates: [ { cert: c.pem } ] }
                routes: [ { cluster: api } ]
            clusters:
              - endpoints: [ 10.0.0.5 ]
                connect_timeout: never
                pool: { max_idle: many }
            """);

        string all = string.Join("\n", result.Errors);
        Assert.False(result.Success);
        foreach (var path in new[]
        {
            "listeners[0].address", "listeners[0].idle_timeout", "listeners[0].limits.max_header_bytes",
            "listeners[0].rate_limit.requests_per_second", "listeners[0].tls.certificates[0].key",
            "clusters[0].name", "clusters[0].endpoints[0]", "clusters[0].connect_timeout", "clusters[0].pool.max_idle",
        })
        {
            Assert.True(result.Errors.Any(e => e.Path == path), $"no error at {path} in:\n{all}");
        }
    }
}
