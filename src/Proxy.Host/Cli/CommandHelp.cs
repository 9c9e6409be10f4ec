namespace Proxy.Host.Cli;

/// <summary>
/// The help text of each command and subcommand, printed to stdout with exit 0 when <c>--help</c>
/// (or <c>-h</c>) appears anywhere after the command: <c>proxy init --help</c>, <c>proxy certs issue --help</c>.
/// </summary>
public static class CommandHelp
{
    /// <summary>Whether the arguments after the command ask for help.</summary>
    public static bool Asked(ReadOnlySpan<string> args)
    {
        foreach (var arg in args)
        {
            if (arg is "--help" or "-h")
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The help of <paramref name="command"/> (and its subcommand, for certs); null for an unknown command.</summary>
    public static string? For(string command, ReadOnlySpan<string> rest) => command switch
    {
        "run" => Run,
        "validate" => Validate,
        "demo" => Demo,
        "version" => Version,
        "init" => InitCommand.Usage + InitDetails,
        "wait-ready" => WaitReady,
        "certs" => rest.Length > 0 && rest[0] == "ca" ? CertsCa : rest.Length > 0 && rest[0] == "issue" ? CertsIssue : Certs,
        _ => null,
    };

    private const string Run = """
        usage: proxy run [--config] FILE [--log-format text|json] [--exit-when-app-gone IP:PORT]

        Runs the proxy with a configuration file (YAML or JSON; see docs/configuration.md). The file is
        validated whole first, the files it names included (exit 1 listing every error).
        SIGHUP, saving the file, or a Kubernetes ConfigMap update reloads it; SIGTERM or SIGINT drains
        and exits 0.

          --config FILE, -c FILE     the configuration file (required)
          --log-format text|json     process log format (overrides log.format)
          --exit-when-app-gone IP:PORT
                                     drain and exit once the application at IP:PORT, seen listening,
                                     has stopped listening and no connection is left (batch jobs)

        """;

    private const string Validate = """
        usage: proxy validate [--config] FILE

        Checks a configuration file without running it: syntax, keys, types, references, and the
        files it names (certificates, keys, CA bundles, the access log's directory). Prints every
        error as file:line:column: path: message. Exit 0 when valid, 1 when not.

        """;

    private const string Demo = """
        usage: proxy demo [--log-format text|json]

        Starts sample upstreams and the proxy in front of them on loopback, and prints what to try.

        """;

    private const string Version = """
        usage: proxy version

        Prints the version and the commit the binary was built from.

        """;

    private const string WaitReady = """
        usage: proxy wait-ready [--admin 127.0.0.1:15000] [--timeout 60s]

        Polls the admin server's /ready; exits 0 once it answers 200, 1 when the timeout passes.
        Run it before the application so the application never starts ahead of its sidecar.

        """;

    private const string Certs = """
        usage: proxy certs ca --out DIR [--name NAME] [--ttl 8760h]
               proxy certs issue --ca DIR --out DIR (--spiffe-id ID | --dns NAME) [--dns NAME ...] [--ttl 24h]

        Makes a certificate authority and issues certificates from it (ECDSA P-256, PEM files
        cert.pem, key.pem and ca.pem in DIR). See proxy certs ca --help and proxy certs issue --help.

        """;

    private const string CertsCa = """
        usage: proxy certs ca --out DIR [--name NAME] [--ttl 8760h]

        Makes a root CA: DIR/cert.pem, DIR/key.pem (mode 0600) and DIR/ca.pem (the trust bundle to
        give to mesh.identity.ca, tls.client_ca or a cluster's tls.ca).

          --out DIR      where to write (created if missing)
          --name NAME    the CA's common name (default "proxy mesh root CA")
          --ttl 8760h    lifetime (a duration: 720h, 90m, ...)

        """;

    private const string CertsIssue = """
        usage: proxy certs issue --ca DIR --out DIR (--spiffe-id ID | --dns NAME) [--dns NAME ...] [--ttl 24h]

        Issues a certificate signed by the CA in --ca (as written by proxy certs ca) into
        DIR/cert.pem, DIR/key.pem and DIR/ca.pem.
        With --spiffe-id: a mesh workload certificate, the SPIFFE ID as its URI SAN, for client and
        server use (mesh.identity), plus any --dns names.
        With --dns alone: an edge certificate for those names (serverAuth), for a listener's tls.

          --ca DIR                  the issuing CA's directory
          --out DIR                 where to write (created if missing)
          --spiffe-id ID            spiffe://TRUST-DOMAIN/ns/NAMESPACE/sa/ACCOUNT
          --dns NAME                a DNS name; repeat it or separate names with commas
          --ttl 24h                 lifetime, capped at the CA's

        """;

    private const string InitDetails = """


        Writes the nat-table rules of transparent interception (needs CAP_NET_ADMIN in the pod's
        network namespace); --dry-run prints them instead, --remove deletes them. Give
        --proxy-uid, --proxy-gid or --proxy-mark so the proxy's own connections are not redirected.

        """;
}
