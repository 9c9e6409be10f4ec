using System.Net;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Host.Cli;

namespace Proxy.EndToEnd.Tests.Observability;

/// <summary>
/// Access-log lines of answers the proxy makes itself: the endpoint tried (UF, UT) and the bytes of the proxy's own
/// response; the Envoy-style format string; reopening on SIGUSR1; a bad format refused by validate.
/// </summary>
public sealed class AccessLogLocalAnswerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-al-local-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string AccessLog => Path.Combine(_dir, "access.log");

    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task ConnectFailure_LineNamesTheEndpointTriedAndTheBytesSent(string version)
    {
        var port = TcpClientHelpers.UnusedPort();
        await using var proxy = await RunningProxy.StartAsync(Config($"127.0.0.1:{port}", "%RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_HOST% %BYTES_SENT%"));

        Assert.Equal(HttpStatusCode.BadGateway, await StatusAsync(proxy, version, "/api/x"));

        var fields = (await ReadLineAsync()).Split(' ');
        Assert.Equal(["502", "UF", $"127.0.0.1:{port}"], fields[..3]);
        Assert.True(long.Parse(fields[3]) > 0, $"bytes_sent {fields[3]}");
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task Timeout_LineNamesTheEndpointTried(string version)
    {
        var seen = new TaskCompletionSource();
        var cancelled = new TaskCompletionSource<string>();
        await using var upstream = UnansweredUpstream.Http1(seen, cancelled);
        await using var proxy = await RunningProxy.StartAsync(Config(upstream.Address, "%RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_HOST%", routeExtra: ", timeout: 300ms"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, await StatusAsync(proxy, version, "/api/x"));

        Assert.Equal($"504 UT {upstream.Address}", await ReadLineAsync());
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task NoRoute_LineCountsTheBytesOfThe404(string version)
    {
        await using var proxy = await RunningProxy.StartAsync(Config("127.0.0.1:9", "%RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_HOST% %BYTES_SENT%"));

        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(proxy, version, "/elsewhere"));

        var fields = (await ReadLineAsync()).Split(' ');
        Assert.Equal(["404", "NR", "-"], fields[..3]);
        Assert.True(long.Parse(fields[3]) > 0, $"bytes_sent {fields[3]}");
    }

    [Fact]
    public async Task Validate_FormatWithUnknownOperator_NamesIt()
    {
        var config = Path.Combine(_dir, "bad.yaml");
        await File.WriteAllTextAsync(config, Config("127.0.0.1:9", "%RESPONSE_CODE% %WHATEVER%"));
        var stderr = new StringWriter();

        Assert.Equal(1, await CommandLine.RunAsync(["validate", "--config", config], new StringWriter(), stderr));

        Assert.Contains("log.access_log_format", stderr.ToString());
        Assert.Contains("%WHATEVER% is not a command operator the proxy supports", stderr.ToString());
    }

    [SkippableFact]
    public async Task Binary_Sigusr1_ReopensTheAccessLogAndKeepsServing()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: publish the binary first");
        var admin = TcpClientHelpers.UnusedPort();
        var listener = TcpClientHelpers.UnusedPort();
        var config = Config("127.0.0.1:9", "%RESPONSE_CODE% %REQ(:PATH)%").Replace("127.0.0.1:0", $"127.0.0.1:{listener}");
        config = config.Replace($"admin: {{ address: 127.0.0.1:{listener} }}", $"admin: {{ address: 127.0.0.1:{admin} }}");
        using var proxy = await BinaryProxy.StartAsync(config, admin);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{listener}") };

        using (await http.GetAsync("/before")) { }
        Assert.Equal("404 /before", await ReadLineAsync());
        File.Move(AccessLog, AccessLog + ".1");
        await File.WriteAllTextAsync(AccessLog, ""); // logrotate's create, then its postrotate signal
        Assert.Equal(0, Posix.Kill(proxy.ProcessId, Posix.SIGUSR1));

        using (await http.GetAsync("/after")) { }
        Assert.Equal("404 /after", await ReadLineAsync());
        Assert.False(proxy.HasExited);
        Assert.Equal("404 /before\n", await File.ReadAllTextAsync(AccessLog + ".1"));
    }

    private string Config(string endpoint, string format, string routeExtra = "") => $$"""
        admin: { address: 127.0.0.1:0 }
        log: { access_log: {{AccessLog}}, access_log_format: "{{format}}" }
        listeners:
          - name: web
            address: 127.0.0.1:0
            protocol: http
            routes:
              - { match: { path_prefix: /api/ }, cluster: backend{{routeExtra}} }
        clusters:
          - { name: backend, endpoints: [ {{endpoint}} ] }
        """;

    private static async Task<HttpStatusCode> StatusAsync(RunningProxy proxy, string version, string path)
    {
        using var http = new HttpClient
        {
            DefaultRequestVersion = Version.Parse(version),
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(30),
        };
        using var response = await http.GetAsync($"http://{proxy.Listener("web")}{path}");
        return response.StatusCode;
    }

    /// <summary>The first line of the access log, once written.</summary>
    private async Task<string> ReadLineAsync()
    {
        string[] lines = [];
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            lines = File.Exists(AccessLog) ? await File.ReadAllLinesAsync(AccessLog) : [];
            return lines.Length > 0;
        }, TimeSpan.FromSeconds(15)), "no access log line");
        return lines[0];
    }
}
