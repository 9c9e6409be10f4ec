using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Configuration;

/// <summary>
/// <c>proxy validate</c> (the published native binary) on mistakes in virtual hosts and the new match keys: each is
/// printed as file:line:column with a sentence that says what to fix, and the exit code is 1.
/// </summary>
public class ValidateVirtualHostsTests
{
    [SkippableFact]
    public async Task Validate_VirtualHostAndMatcherMistakes_EachLocatedWithWhatToFix()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: publish the binary first");
        var path = Path.Combine(Directory.CreateTempSubdirectory("proxy-validate-").FullName, "vhosts.yaml");
        await File.WriteAllTextAsync(path, """
            listeners:
              - name: edge
                address: 127.0.0.1:0
                virtual_hosts:
                  - name: a
                    domains: [ "shop.example.com", "a*b.example.com" ]
                    routes:
                      - match: { path_regex: "/(?<=x)y", path_prefix: /y }
                        cluster: web
                  - name: b
                    domains: [ "SHOP.example.com", "*:8080" ]
                    routes:
                      - match: { query: [ { name: v, regex: "(" } ], headers: [ { name: x, absent: false } ], grpc: yes-please }
                        cluster: web
                  - name: c
                    domains: [ ]
                    routes: [ { cluster: web, match: { case_sensitive: false } } ]
            clusters:
              - { name: web, endpoints: [ 127.0.0.1:9 ] }
            """);

        var (exit, _, stderr) = await BinaryCommand.RunAsync(["validate", "--config", path]);

        Assert.Equal(1, exit);
        string[] expected =
        [
            $"{path}:6:40: listeners[0].virtual_hosts[0].domains[1]: 'a*b.example.com': '*' may only begin a domain ('*.example.com'), end one ('example.*') or stand alone ('*')",
            $"{path}:8:34: listeners[0].virtual_hosts[0].routes[0].match.path_regex: '/(?<=x)y' uses a construct the linear-time regex engine cannot run (a backreference, lookaround, atomic group or conditional); rewrite the pattern without it",
            $"{path}:8:34: listeners[0].virtual_hosts[0].routes[0].match.path_regex: a match takes one path condition: path_prefix, path_exact or path_regex; remove the others",
            $"{path}:11:20: listeners[0].virtual_hosts[1].domains[0]: the domain 'SHOP.example.com' also belongs to virtual host 'a' (line 6); a request for it could reach only one of them, so keep it in one",
            $"{path}:11:40: listeners[0].virtual_hosts[1].domains[1]: '*:8080': the catch-all '*' takes no port; list the hosts, or use '*' alone",
            $"{path}:13:49: listeners[0].virtual_hosts[1].routes[0].match.query[0].regex: invalid regular expression: InsufficientClosingParentheses at offset 1",
            $"{path}:13:88: listeners[0].virtual_hosts[1].routes[0].match.headers[0].absent: only 'absent: true' is supported; to require the header write 'present: true'",
            $"{path}:13:105: listeners[0].virtual_hosts[1].routes[0].match.grpc: expected true or false, found 'yes-please'",
            $"{path}:16:18: listeners[0].virtual_hosts[2].domains: a virtual host needs at least one domain; write '*' for every host",
            $"{path}:17:60: listeners[0].virtual_hosts[2].routes[0].match.case_sensitive: case_sensitive applies to path_prefix and path_exact; set one of them or remove case_sensitive",
        ];
        foreach (string line in expected)
        {
            Assert.True(stderr.Contains(line + "\n", StringComparison.Ordinal), $"expected: {line}\nin:\n{stderr}");
        }

        Assert.Contains($"{expected.Length} error(s)", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stderr, StringComparison.Ordinal);
    }
}
