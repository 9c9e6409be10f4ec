using System.Net;
using Proxy.LoadTests.Client;
using Proxy.LoadTests.Harness;
using Proxy.LoadTests.Load;
using Proxy.LoadTests.Upstream;

namespace Proxy.LoadTests.Scenarios;

/// <summary>
/// Many clients each opening a fresh mutual-TLS connection to a TLS listener (handshake, one GET,
/// close). Skipped until the proxy terminates mTLS: detected by a real handshake, not by config alone.
/// </summary>
public sealed class MtlsHandshakeStormScenario : IScenario
{
    /// <inheritdoc />
    public string Name => "mtls-handshake-storm";

    /// <inheritdoc />
    public string Description => "fresh mTLS connections (ECDSA P-256 client certs, SPIFFE SANs) opened back to back by many clients";

    /// <inheritdoc />
    public async Task<ScenarioResult> RunAsync(ScenarioContext context)
    {
        var result = new ScenarioResult(Name, Description);
        string directory = context.Directory(Name);
        using var certificates = TestCertificates.Create(directory);
        using var upstream = new TinyHttpServer("u0");
        int admin = FreePorts.Next(), port = FreePorts.Next();
        string yaml = $$"""
            admin: { address: 127.0.0.1:{{admin}} }
            log: { level: warn }
            listeners:
              - name: mtls
                address: 127.0.0.1:{{port}}
                protocol: tcp
                cluster: backend
                tls:
                  certificates: [ { cert: {{certificates.ServerCertPath}}, key: {{certificates.ServerKeyPath}} } ]
                  client_ca: {{certificates.CaPath}}
                  require_client_cert: true
            clusters:
              - { name: backend, endpoints: [ {{upstream.Address}} ], load_balancer: round_robin }
            """;
        var (valid, output) = await FeatureProbes.ValidatorAcceptsAsync(context.ProxyBinary, directory, yaml).ConfigureAwait(false);
        if (!valid)
        {
            return result.Skip("the validator rejects a listener with mTLS: " + output);
        }

        using var proxy = ProxyProcess.Start(context.ProxyBinary, Path.Combine(directory, "proxy.yaml"), yaml, admin);
        if (!await proxy.WaitReadyAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false))
        {
            return result.Skip("the proxy does not start with a TLS listener (mTLS not implemented?): " + LastLine(proxy.LogTail()));
        }

        var endPoint = new IPEndPoint(IPAddress.Loopback, port);
        byte[] request = Http1ConnectionFactory.BuildGet(new Uri($"http://127.0.0.1:{port}/"));
        var probe = new MtlsHandshakeConnection(endPoint, certificates, request);
        var first = await probe.SendAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        if (first.Outcome != RequestOutcome.Ok)
        {
            return result.Skip($"mTLS is not served yet: a probe handshake + GET ended with {LoadResult.OutcomeName(first.Outcome)} ({probe.LastError})");
        }

        int handshakes = context.Pick(300, 3000);
        int concurrency = context.Pick(16, 64);
        var factory = new MtlsFactory(endPoint, certificates, request, $"mTLS handshake + GET on 127.0.0.1:{port}");
        var load = await ClosedModelRunner.RunAsync(factory, concurrency, TimeSpan.FromSeconds(context.Pick(20, 60)), handshakes,
            cancellationToken: context.Cancellation).ConfigureAwait(false);
        result.Load = load with { Simulation = $"{handshakes} handshakes by {concurrency} concurrent clients" };
        result.Measure("handshakes per second", load.AchievedRps.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture));
        result.AddLoadThresholds(load, p99BoundMs: 250, maxErrorRate: 0);
        return result;
    }

    private static string LastLine(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Length == 0 ? "(no output)" : lines[^1];
    }

    private sealed class MtlsFactory(IPEndPoint endPoint, TestCertificates certificates, byte[] request, string description) : ILoadConnectionFactory
    {
        public string Description => description;

        public ILoadConnection Create() => new MtlsHandshakeConnection(endPoint, certificates, request);
    }
}
