using System.Net;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Routing;

/// <summary>
/// A route's and its listener's response additions on the answers the proxy makes itself once that route matched (a
/// redirect, a direct response, a 502 from an unreachable cluster), as Envoy's router applies
/// <c>response_headers_to_add</c> to its local replies: a header a site adds everywhere (HSTS, CORS) must not be
/// missing from its redirects and error pages. HTTP/1.1 and HTTP/2 clients.
/// </summary>
public sealed class LocalAnswerHeaderTests
{
    private static string Config(int deadPort) => $$"""
        admin: { address: 127.0.0.1:0 }
        listeners:
          - name: web
            address: 127.0.0.1:0
            response_headers:
              add: { strict-transport-security: "max-age=31536000" }
            routes:
              - name: moved
                match: { path_prefix: /old/ }
                redirect: { prefix_rewrite: /new/, status: 301 }
                response_headers: { add: { x-route: "%ROUTE_NAME%" } }
              - name: maintenance
                match: { path_prefix: /down }
                direct_response: { status: 503, body: "down\n" }
                response_headers: { add: { x-route: "%ROUTE_NAME%" } }
              - name: dead
                cluster: dead
                response_headers: { add: { x-route: "%ROUTE_NAME%" } }
        clusters:
          - { name: dead, endpoints: [ 127.0.0.1:{{deadPort}} ], connect_timeout: 1s }
        """;

    [Theory]
    [InlineData("h1")]
    [InlineData("h2")]
    public async Task ProxyAnswersAfterARouteMatched_CarryTheRoutesAndListenersAdditions(string client)
    {
        await using var proxy = await RunningProxy.StartAsync(Config(TcpClientHelpers.UnusedPort()));
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false })
        {
            BaseAddress = new Uri($"http://{proxy.Listener("web")}"),
            DefaultRequestVersion = client == "h2" ? HttpVersion.Version20 : HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        foreach (var (path, status, route) in new[] { ("/old/a", 301, "moved"), ("/down", 503, "maintenance"), ("/x", 502, "dead") })
        {
            using var response = await http.GetAsync(path);
            Assert.Equal(status, (int)response.StatusCode);
            Assert.Equal("max-age=31536000", Assert.Single(response.Headers.GetValues("strict-transport-security")));
            Assert.Equal(route, Assert.Single(response.Headers.GetValues("x-route")));
        }
    }
}
