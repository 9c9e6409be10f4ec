using Proxy.Host.Cli;

namespace Proxy.EndToEnd.Tests.Configuration;

/// <summary><c>proxy validate</c> on mistakes in redirect, direct_response and fault.header_control: each one with file:line:column and a sentence.</summary>
public class ValidateRouteActionsTests
{
    [Fact]
    public async Task Validate_RouteActionMistakes_EachPrintedWithItsPlace()
    {
        var dir = Directory.CreateTempSubdirectory("proxy-validate-").FullName;
        var path = Path.Combine(dir, "edge.yaml");
        await File.WriteAllTextAsync(path, """
            listeners:
              - name: web
                address: 127.0.0.1:8080
                routes:
                  - match: { path_prefix: /v1/ }
                    redirect: { path: /a, prefix_rewrite: /b/, status: 200 }
                  - match: { path_prefix: /down }
                    direct_response: { status: 503, body: x, body_file: down.html }
                  - match: { path_prefix: /page }
                    direct_response: { status: 200, body_file: missing.html }
                  - match: { path_prefix: /both }
                    cluster: api
                    redirect: { https_redirect: true, colour: red }
                  - match: { path_prefix: / }
                    cluster: api
                    fault: { abort: { status: 503 }, header_control: sometimes }
            clusters:
              - { name: api, endpoints: [ 10.0.0.1:80 ] }
            """);
        var stderr = new StringWriter();

        Assert.Equal(1, await CommandLine.RunAsync(["validate", "--config", path], new StringWriter(), stderr));

        var text = stderr.ToString();
        Assert.Contains($"{path}:6:47: listeners[0].routes[0].redirect.prefix_rewrite: set either 'path' (the whole path) or 'prefix_rewrite' (the matched prefix), not both", text);
        Assert.Contains($"{path}:6:60: listeners[0].routes[0].redirect.status: 200 is not a redirect status; use 301, 302, 303, 307 or 308", text);
        Assert.Contains($"{path}:8:61: listeners[0].routes[1].direct_response.body_file: set either 'body' (inline) or 'body_file', not both", text);
        Assert.Contains($"{path}:10:52: listeners[0].routes[2].direct_response.body_file: the body file {Path.Combine(dir, "missing.html")} does not exist; check the path", text);
        Assert.Contains($"{path}:13:19: listeners[0].routes[3].redirect: a route takes either 'cluster' or 'redirect', not both", text);
        Assert.Contains($"{path}:13:43: listeners[0].routes[3].redirect.colour: unknown key 'colour'; allowed keys: https_redirect, scheme, host, port, path, prefix_rewrite, strip_query, status", text);
        Assert.Contains($"{path}:16:58: listeners[0].routes[4].fault.header_control: expected true or false, found 'sometimes'", text);
        Assert.Contains("7 error(s)", text);
    }
}
