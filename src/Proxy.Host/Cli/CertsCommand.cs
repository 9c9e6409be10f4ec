using System.Security.Cryptography;
using Proxy.Configuration;
using Proxy.Tls;

namespace Proxy.Host.Cli;

/// <summary>
/// <c>proxy certs ca --out DIR</c> makes a mesh root CA (ECDSA P-256, PEM);
/// <c>proxy certs issue --ca DIR --spiffe-id ID --out DIR [--ttl 24h] [--dns NAME]</c> issues a
/// short-lived workload certificate with the SPIFFE URI SAN and client+server EKU; with <c>--dns</c>
/// and no <c>--spiffe-id</c>, an edge (server) certificate for those names.
/// </summary>
public static class CertsCommand
{
    private static readonly HashSet<string> NoFlags = new(StringComparer.Ordinal);

    public static int Execute(ReadOnlySpan<string> args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is not ("ca" or "issue"))
        {
            stderr.WriteLine(args.Length == 0
                ? "proxy certs: expected 'ca' or 'issue' (proxy certs --help describes them)"
                : $"proxy certs: unknown subcommand '{args[0]}'; expected 'ca' or 'issue' (proxy certs --help describes them)");
            return 2;
        }

        var verb = args[0];
        var options = ArgList.Parse(args[1..], NoFlags, out var error);
        if (error is not null)
        {
            stderr.WriteLine($"proxy certs {verb}: {error}");
            return 2;
        }

        try
        {
            return verb == "ca" ? CreateCa(options, stdout, stderr) : Issue(options, stdout, stderr);
        }
        catch (UnusableFileException ex)
        {
            stderr.WriteLine($"proxy certs {verb}: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Reading went through PemFiles (UnusableFileException): this is a write into --out.
            stderr.WriteLine($"proxy certs {verb}: cannot write the files into {options.Value("--out")}: "
                + (ex is UnauthorizedAccessException ? "permission denied; choose a directory you may write to" : "the disk refused the write; check its free space"));
            return 1;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            stderr.WriteLine($"proxy certs {verb}: the certificate could not be made from these options; check --spiffe-id, --dns and --ttl");
            return 1;
        }
    }

    private static int CreateCa(ArgList options, TextWriter stdout, TextWriter stderr)
    {
        var output = options.Value("--out");
        var name = options.Value("--name") ?? "proxy mesh root CA";
        if (!TryDuration(options.Value("--ttl") ?? "8760h", out var ttl, stderr) | Reject(options, stderr))
        {
            return 2;
        }

        if (output is null)
        {
            stderr.WriteLine("proxy certs ca: --out DIR is required");
            return 2;
        }

        using var ca = CertificateAuthority.Create(name, ttl);
        ca.Save(output);
        stdout.WriteLine($"wrote {Path.Combine(output, CertificateAuthority.CertFile)}, {CertificateAuthority.KeyFile}, {CertificateAuthority.CaFile} (valid until {ca.Certificate.NotAfter:u})");
        return 0;
    }

    private static int Issue(ArgList options, TextWriter stdout, TextWriter stderr)
    {
        var caDir = options.Value("--ca");
        var output = options.Value("--out");
        var idText = options.Value("--spiffe-id");
        var dns = options.Values("--dns");
        if (!TryDuration(options.Value("--ttl") ?? "24h", out var ttl, stderr) | Reject(options, stderr))
        {
            return 2;
        }

        if (caDir is null || output is null || (idText is null && dns.Count == 0))
        {
            stderr.WriteLine("proxy certs issue: --ca DIR, --out DIR and --spiffe-id ID (a mesh workload) or --dns NAME (an edge certificate) are required");
            return 2;
        }

        SpiffeId? id = null;
        if (idText is not null)
        {
            if (!SpiffeId.TryParse(idText, out var parsed, out var idError))
            {
                stderr.WriteLine($"proxy certs issue: --spiffe-id '{idText}': {idError}");
                return 2;
            }

            id = parsed;
        }

        foreach (var name in dns)
        {
            if (!HostPort.IsValidHost(name.StartsWith("*.", StringComparison.Ordinal) ? name[2..] : name))
            {
                stderr.WriteLine($"proxy certs issue: --dns '{name}' is not a DNS name");
                return 2;
            }
        }

        using var ca = CertificateAuthority.Load(caDir);
        using var issued = id is not null ? ca.Issue(id, ttl, dns) : ca.IssueServer(dns, ttl);
        issued.Save(output);
        var subject = id is not null ? id.Value : "DNS " + string.Join(", ", dns);
        stdout.WriteLine($"wrote {Path.Combine(output, CertificateAuthority.CertFile)}, {CertificateAuthority.KeyFile}, {CertificateAuthority.CaFile} for {subject} (valid until {issued.Certificate.NotAfter:u})");
        return 0;
    }

    private static bool TryDuration(string text, out TimeSpan value, TextWriter stderr)
    {
        if (ConfigDuration.TryParse(text, out value, out var message) && value > TimeSpan.Zero)
        {
            return true;
        }

        stderr.WriteLine($"proxy certs: --ttl '{text}': {message}");
        return false;
    }

    private static bool Reject(ArgList options, TextWriter stderr)
    {
        if (options.Unknown() is { } unknown)
        {
            stderr.WriteLine($"proxy certs: unknown option {unknown}");
            return true;
        }

        return false;
    }
}
