using Proxy.Host.Demo;

namespace Proxy.Host.Cli;

/// <summary>
/// <c>proxy demo</c>: the main job on an embedded default. Starts two sample HTTP upstreams and a
/// TCP echo upstream inside this process, puts the proxy in front of them and prints what to try.
/// </summary>
public static class DemoCommand
{
    public const int HttpPort = 8080;
    public const int TcpPort = 9000;
    public const int AdminPort = 15000;

    public static async Task<int> ExecuteAsync(CommandOptions options, TextWriter stdout, TextWriter stderr)
    {
        await using var hello1 = new SampleHttpServer("upstream-1");
        await using var hello2 = new SampleHttpServer("upstream-2");
        await using var echo = new SampleEchoServer();

        var config = $$"""
            # proxy demo: the embedded configuration (see docs/configuration.md)
            admin: { address: 127.0.0.1:{{AdminPort}} }
            drain_timeout: 2s
            listeners:
              - name: web
                address: 127.0.0.1:{{HttpPort}}
                protocol: http
                routes:
                  - match: { path_prefix: / }
                    cluster: hello
                    timeout: 5s
              - name: echo
                address: 127.0.0.1:{{TcpPort}}
                protocol: tcp
                cluster: echo
            clusters:
              - name: hello
                endpoints: [ 127.0.0.1:{{hello1.LocalEndPoint.Port}}, 127.0.0.1:{{hello2.LocalEndPoint.Port}} ]
                load_balancer: round_robin
              - name: echo
                endpoints: [ 127.0.0.1:{{echo.LocalEndPoint.Port}} ]
            """;

        return await RunCommand.ServeAsync("<demo>", config, options, stderr, host =>
        {
            stdout.WriteLine($"""

                proxy demo is running (Ctrl-C to stop). Try:

                  curl -i http://127.0.0.1:{HttpPort}/hello           # HTTP through the proxy, round robin over 2 upstreams
                  echo ping | nc -q1 127.0.0.1 {TcpPort}              # TCP echo through the proxy
                  curl http://127.0.0.1:{AdminPort}/metrics           # Prometheus metrics of that traffic
                  curl http://127.0.0.1:{AdminPort}/ready             # readiness
                  curl http://127.0.0.1:{AdminPort}/config            # the running configuration
                  curl http://127.0.0.1:{AdminPort}/clusters          # endpoints with health and in-flight counts
                  curl -X POST http://127.0.0.1:{AdminPort}/drain     # stop accepting, finish in-flight work

                """);
            stdout.Flush();
            return Task.CompletedTask;
        }).ConfigureAwait(false);
    }
}
