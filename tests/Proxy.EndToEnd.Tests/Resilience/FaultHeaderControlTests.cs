using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Proxy.EndToEnd.Tests.Http2;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Resilience;

/// <summary>
/// A client may ask a route for a fault (x-proxy-fault-delay, x-proxy-fault-abort) only where its fault section says
/// header_control: true. By default the fields are forwarded as any other and nothing is injected, for HTTP/1.1 and
/// HTTP/2 clients alike.
/// </summary>
public class FaultHeaderControlTests
{
    public static TheoryData<string> Clients => new() { "h1", "h2" };

    private static string Config(string upstream, bool? headerControl) => Http2Configs.Single(upstream, routeExtra: headerControl is { } on
        ? $"        fault: {{ abort: {{ status: 503, percent: 0 }}, header_control: {(on ? "true" : "false")} }}"
        : "        fault: { abort: { status: 503, percent: 0 } }");

    private static HttpRequestMessage Get(string client, string path, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path)
        {
            Version = client == "h2" ? HttpVersion.Version20 : HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task HeaderControlOff_TheDefault_FaultFieldsForwardedNotObeyed(string client)
    {
        await using var b = await KestrelUpstream.StartAsync("b", HttpProtocols.Http1);
        await using var proxy = await RunningProxy.StartAsync(Config(b.Address, headerControl: null));
        using var http = Http2ProxyTests.Client(proxy, client);

        using (var aborted = await http.SendAsync(Get(client, "/headers", ("x-proxy-fault-abort", "418"))))
        {
            Assert.Equal(HttpStatusCode.OK, aborted.StatusCode);
            Assert.Equal(client == "h2" ? HttpVersion.Version20 : HttpVersion.Version11, aborted.Version);
            Assert.Contains("x-proxy-fault-abort: 418", await aborted.Content.ReadAsStringAsync());
        }

        var watch = Stopwatch.StartNew();
        using (var delayed = await http.SendAsync(Get(client, "/hello", ("x-proxy-fault-delay", "5000"))))
        {
            Assert.Equal("hello from b", await delayed.Content.ReadAsStringAsync());
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"answered after {watch.Elapsed}");
        Assert.Equal(2, b.Requests);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(0, metrics.Value("proxy_faults_injected_total{listener=\"web\",route=\"route-0\",kind=\"abort\"}"));
        Assert.Equal(0, metrics.Value("proxy_faults_injected_total{listener=\"web\",route=\"route-0\",kind=\"delay\"}"));
    }

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task HeaderControlFalse_FaultFieldsIgnored(string client)
    {
        await using var b = await KestrelUpstream.StartAsync("b", HttpProtocols.Http1);
        await using var proxy = await RunningProxy.StartAsync(Config(b.Address, headerControl: false));
        using var http = Http2ProxyTests.Client(proxy, client);

        using var response = await http.SendAsync(Get(client, "/hello", ("x-proxy-fault-abort", "418")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, b.Requests);
    }

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task HeaderControlOn_FaultFieldsObeyed(string client)
    {
        await using var b = await KestrelUpstream.StartAsync("b", HttpProtocols.Http1);
        await using var proxy = await RunningProxy.StartAsync(Config(b.Address, headerControl: true));
        using var http = Http2ProxyTests.Client(proxy, client);

        using (var aborted = await http.SendAsync(Get(client, "/hello", ("x-proxy-fault-abort", "418"))))
        {
            Assert.Equal((HttpStatusCode)418, aborted.StatusCode);
            Assert.Equal(client == "h2" ? HttpVersion.Version20 : HttpVersion.Version11, aborted.Version);
            Assert.Equal("fault-injected", aborted.Headers.GetValues("x-proxy-error").Single());
        }

        var watch = Stopwatch.StartNew();
        using (var delayed = await http.SendAsync(Get(client, "/hello", ("x-proxy-fault-delay", "600"))))
        {
            Assert.Equal("hello from b", await delayed.Content.ReadAsStringAsync());
        }

        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(550), $"answered after {watch.Elapsed}");
        Assert.Equal(1, b.Requests);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_faults_injected_total{listener=\"web\",route=\"route-0\",kind=\"abort\"}"));
        Assert.Equal(1, metrics.Value("proxy_faults_injected_total{listener=\"web\",route=\"route-0\",kind=\"delay\"}"));
    }
}
