using System.Diagnostics;
using Envoy.Config.Route.V3;
using Google.Protobuf;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Tls;
using Proxy.Xds;
using Xunit.Abstractions;
using static Proxy.EndToEnd.Tests.Xds.XdsListenerResources;
using static Proxy.EndToEnd.Tests.Xds.XdsTlsResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// Issue 15, "under load": the published binary serves 1,000 requests/s for 60 s (open model, every response checked)
/// through a listener, routes, clusters, endpoints and secrets that all come from the management server, while the
/// server, every 2-3 s, moves a cluster's endpoints (a new pod added, the oldest removed and stopped a second later,
/// as a rollout does), flips the route's weighted split, and rotates the client certificate of an mTLS upstream (SDS
/// over ADS). Half-way the server is stopped (its streams cut) and restarted 3 s later: traffic keeps flowing on the
/// last good configuration, the proxy resyncs on a new stream and takes the next changes. No request may fail, and
/// every change must show in traffic within <see cref="Bound"/> of the response that carried it.
/// </summary>
public sealed class XdsChurnBinaryTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan LoadTime = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(2);
    private const int Rate = 1000;
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-xds-churn-").FullName;
    private readonly CertificateAuthority _ca = CertificateAuthority.Create("xds churn CA", TimeSpan.FromDays(1));

    public void Dispose()
    {
        _ca.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private (string Cert, string Key) Issue(string name, params string[] dns)
    {
        using var workload = _ca.Issue(SpiffeId.Parse($"spiffe://e2e.test/{name}"), TimeSpan.FromHours(1), dns);
        workload.Save(Path.Combine(_dir, name));
        return (File.ReadAllText(Path.Combine(_dir, name, "cert.pem")), File.ReadAllText(Path.Combine(_dir, name, "key.pem")));
    }

    /// <summary>A change the server made, when it went out, and what traffic must show within the bound.</summary>
    private sealed record Change(string Kind, string What, long Sent, Func<XdsChurnLoad.Sample, bool>? MustAppear, Func<XdsChurnLoad.Sample, bool>? MustVanish);

    [SkippableFact]
    public async Task ThousandRequestsPerSecond_WhileEndpointsSplitAndCertificatesChange_AndTheServerRestarts_NothingFails()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        Issue("upstream", "upstream.test");
        string[] identities = ["client-one", "client-two"];
        var clientPems = identities.Select(n => Issue(n)).ToArray();
        await using var secure = await MtlsUpstream.StartAsync("secure", Path.Combine(_dir, "upstream", "cert.pem"), Path.Combine(_dir, "upstream", "key.pem"));
        await using var canary = await KestrelUpstream.StartAsync("canary");
        var pods = new List<KestrelUpstream> { await KestrelUpstream.StartAsync("w1"), await KestrelUpstream.StartAsync("w2") };
        var allPods = new List<KestrelUpstream>(pods);
        var stopping = new List<Task>();
        await using var server = await ScriptedAdsServer.StartAsync();
        await using var control = new XdsChurnControlPlane(server);
        try
        {
            int listenPort = TcpClientHelpers.UnusedPort(), adminPort = TcpClientHelpers.UnusedPort();
            var secureCluster = XdsResources.StaticCluster("secure", secure.Address);
            secureCluster.TransportSocket = TlsSocket(IstioMutual("spiffe://e2e.test/upstream", Ads()));
            await control.SetAsync(XdsTypeUrls.Cluster, ("web", XdsResources.EdsCluster("web")), ("canary", XdsResources.EdsCluster("canary")), ("secure", secureCluster));
            await control.SetAsync(XdsTypeUrls.ClusterLoadAssignment, Web(pods), ("canary", XdsResources.Assignment("canary", canary.Address)));
            await control.SetAsync(XdsTypeUrls.Listener, ("churn", HttpListener("churn", listenPort, "churn-routes")));
            await control.SetAsync(XdsTypeUrls.RouteConfiguration, Routes(canaryWeight: 0));
            await control.SetAsync(XdsTypeUrls.Secret, Certificate(clientPems[0]), ("ROOTCA", CaSecret("ROOTCA", File.ReadAllText(Path.Combine(_dir, "upstream", "ca.pem")))));
            using var proxy = await BinaryProxy.StartAsync($$"""
                admin: { address: 127.0.0.1:{{adminPort}} }
                xds:
                  server: {{server.Address}}
                  node: { id: churn-node, cluster: edge }
                  resources: [ clusters, endpoints, listeners, routes ]
                """, adminPort);

            using (var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) })
            {
                async Task<string> Get(string path)
                {
                    try
                    {
                        return await probe.GetStringAsync($"http://127.0.0.1:{listenPort}{path}");
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        return ex.Message;
                    }
                }

                Assert.True(await TcpClientHelpers.EventuallyAsync(async () => (await Get("/hello")).StartsWith("hello from w", StringComparison.Ordinal)
                    && (await Get("/tls/whoami")).StartsWith("secure spiffe://e2e.test/client-one ", StringComparison.Ordinal), TimeSpan.FromSeconds(30)), "the pushed configuration never served");
            }

            using var load = new XdsChurnLoad($"http://127.0.0.1:{listenPort}", Rate, static i => i % 20 == 0 ? "/tls/whoami" : "/hello");
            using var cancel = new CancellationTokenSource(LoadTime + TimeSpan.FromSeconds(60));
            var clock = Stopwatch.StartNew();
            var running = load.RunAsync(LoadTime, cancel.Token);
            var changes = new List<Change>();
            var random = new Random(15);
            var (tick, next, canaryOn, identity, restarted) = (0, 3, false, 0, false);
            while (clock.Elapsed < LoadTime - Bound - TimeSpan.FromSeconds(2))
            {
                await Task.Delay(2000 + random.Next(1000));
                if (!restarted && clock.Elapsed > LoadTime / 2 - TimeSpan.FromSeconds(3))
                {
                    // The server goes away: its streams are cut. Traffic keeps flowing on what the proxy holds.
                    restarted = true;
                    var streams = control.Streams;
                    await server.StopAsync();
                    Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await proxy.MetricAsync("proxy_xds_connected") == 0, TimeSpan.FromSeconds(10)), "the proxy did not notice the server went away");
                    await Task.Delay(3000);
                    await server.RestartAsync();
                    Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(control.Streams > streams && control.FirstRequests.ContainsKey(XdsTypeUrls.Secret)), TimeSpan.FromSeconds(40)), "the proxy did not resync with the restarted server");
                    Assert.Equal("v1", control.FirstRequests[XdsTypeUrls.Cluster].VersionInfo); // it restated what it held
                    output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: server restarted, the proxy resynced");
                    continue;
                }

                tick++;
                if (tick % 2 == 1)
                {
                    var pod = await KestrelUpstream.StartAsync($"w{next++}");
                    pods.Add(pod);
                    allPods.Add(pod);
                    var body = $"hello from {pod.Name}";
                    var (sent, _) = await control.SetAsync(XdsTypeUrls.ClusterLoadAssignment, Web(pods));
                    changes.Add(new Change("endpoints", $"endpoint {pod.Name} added", sent, s => s.Body == body, null));
                }
                else
                {
                    var gone = pods[0];
                    pods.RemoveAt(0);
                    var body = $"hello from {gone.Name}";
                    var (sent, _) = await control.SetAsync(XdsTypeUrls.ClusterLoadAssignment, Web(pods));
                    changes.Add(new Change("endpoints", $"endpoint {gone.Name} removed", sent, null, s => s.Body == body));
                    stopping.Add(Task.Run(async () =>
                    {
                        await Task.Delay(1000); // the pod lives a moment after it left, then stops, as in a rollout
                        await gone.DisposeAsync();
                    }));
                }

                canaryOn = !canaryOn;
                var (splitSent, _) = await control.SetAsync(XdsTypeUrls.RouteConfiguration, Routes(canaryOn ? 50u : 0u));
                changes.Add(canaryOn
                    ? new Change("split", "split 50/50", splitSent, static s => s.Body == "hello from canary", null)
                    : new Change("split", "split 100/0", splitSent, null, static s => s.Body == "hello from canary"));

                identity = 1 - identity;
                var (now, old) = ($"secure spiffe://e2e.test/{identities[identity]} ", $"secure spiffe://e2e.test/{identities[1 - identity]} ");
                var (certSent, _) = await control.SetAsync(XdsTypeUrls.Secret, Certificate(clientPems[identity]));
                changes.Add(new Change("certificate", $"certificate {identities[identity]}", certSent, s => s.Body.StartsWith(now, StringComparison.Ordinal), s => s.Body.StartsWith(old, StringComparison.Ordinal)));
            }

            await running.WaitAsync(TimeSpan.FromSeconds(90));
            Assert.True(restarted, "the run ended before the server was restarted");
            Assert.False(proxy.HasExited, "the proxy exited");
            Check(load.Samples, changes, clock, allPods.Select(p => $"hello from {p.Name}").Append("hello from canary").ToHashSet());
            Assert.Empty(control.Nacks);
        }
        finally
        {
            await Task.WhenAll(stopping).WaitAsync(TimeSpan.FromSeconds(30));
            foreach (var pod in pods)
            {
                await pod.DisposeAsync();
            }
        }
    }

    private void Check(IReadOnlyList<XdsChurnLoad.Sample> samples, List<Change> changes, Stopwatch clock, HashSet<string> helloBodies)
    {
        var origin = Stopwatch.GetTimestamp() - clock.ElapsedTicks; // Stopwatch ticks, as the samples' timestamps

        double At(long timestamp) => (timestamp - origin) / (double)Stopwatch.Frequency;
        var failures = samples.Where(s => s.Failure is not null
            || (s.Path == "/hello" && !helloBodies.Contains(s.Body))
            || (s.Path == "/tls/whoami" && !s.Body.StartsWith("secure spiffe://e2e.test/client-", StringComparison.Ordinal))).ToList();
        output.WriteLine($"{samples.Count} requests, {failures.Count} failed, {changes.Count} changes");
        foreach (var failure in failures.Where(static f => f.Failure?.StartsWith("not sent", StringComparison.Ordinal) != true).Take(10).Concat(failures.Take(3)))
        {
            output.WriteLine($"  {At(failure.Start):F3} s {failure.Path}: {failure.Failure ?? failure.Body}");
        }

        // The slowest second, to tell a stalled proxy from a slow machine when something fails.
        foreach (var second in samples.GroupBy(s => (int)At(s.Start)).OrderBy(static g => g.Key))
        {
            var slowest = second.Max(static s => s.End - s.Start) * 1000.0 / Stopwatch.Frequency;
            if (slowest > 200)
            {
                output.WriteLine($"  second {second.Key}: {second.Count()} requests, slowest {slowest:F0} ms, {second.Count(static s => s.Failure is not null)} failed");
            }
        }

        Assert.True(samples.Count >= Rate * LoadTime.TotalSeconds * 0.98, $"only {samples.Count} requests were made");
        Assert.True(failures.Count == 0, $"{failures.Count} requests failed, the first at {At(failures.FirstOrDefault()?.Start ?? 0):F3} s: {failures.FirstOrDefault()?.Failure ?? failures.FirstOrDefault()?.Body}");

        var bound = (long)(Bound.TotalSeconds * Stopwatch.Frequency);
        var late = new List<string>();
        foreach (var change in changes)
        {
            if (change.MustAppear is { } appear)
            {
                var first = samples.Where(s => s.Start >= change.Sent && appear(s)).Select(static s => s.End).DefaultIfEmpty(long.MaxValue).Min();
                var seen = first == long.MaxValue ? "never" : $"{(first - change.Sent) * 1000.0 / Stopwatch.Frequency:F0} ms";
                output.WriteLine($"{At(change.Sent):F1} s {change.What}: first seen after {seen}");
                if (first - change.Sent > bound)
                {
                    late.Add($"{change.What} at {At(change.Sent):F1} s: first seen after {seen}");
                }
            }

            if (change.MustVanish is { } vanish)
            {
                // Among requests answered before the next change of the same kind (which may bring the old one back:
                // the split, the other certificate); one that ended after it may have been served under either.
                var until = changes.Where(c => c.Kind == change.Kind && c.Sent > change.Sent).Select(static c => c.Sent).DefaultIfEmpty(long.MaxValue).Min();
                var last = samples.Where(s => s.End < until && vanish(s)).Select(static s => s.Start).DefaultIfEmpty(change.Sent).Max();
                var ms = (last - change.Sent) * 1000.0 / Stopwatch.Frequency;
                output.WriteLine($"{At(change.Sent):F1} s {change.What}: the old one last requested {ms:F0} ms after");
                if (last - change.Sent > bound)
                {
                    late.Add($"{change.What} at {At(change.Sent):F1} s: still in traffic {ms:F0} ms after");
                }
            }
        }

        Assert.True(late.Count == 0, "changes not seen in traffic within " + Bound.TotalSeconds + " s: " + string.Join("; ", late));
    }

    private static (string, IMessage) Web(List<KestrelUpstream> pods) => ("web", XdsResources.Assignment("web", [.. pods.Select(static p => p.Address)]));

    private static (string, IMessage) Certificate((string Cert, string Key) pem) => ("default", CertificateSecret("default", pem.Cert, pem.Key));

    /// <summary>/tls/ to the mTLS upstream (the prefix stripped); the rest split between web and canary.</summary>
    private static (string, IMessage) Routes(uint canaryWeight)
    {
        var tls = Prefix("/tls/", "secure");
        tls.Route_.PrefixRewrite = "/";
        var split = new Route { Match = new RouteMatch { Prefix = "/" }, Route_ = new RouteAction { WeightedClusters = new WeightedCluster() } };
        split.Route_.WeightedClusters.Clusters.Add(new WeightedCluster.Types.ClusterWeight { Name = "web", Weight = 100 - canaryWeight });
        split.Route_.WeightedClusters.Clusters.Add(new WeightedCluster.Types.ClusterWeight { Name = "canary", Weight = canaryWeight });
        return ("churn-routes", XdsListenerResources.Routes("churn-routes", tls, split));
    }
}
