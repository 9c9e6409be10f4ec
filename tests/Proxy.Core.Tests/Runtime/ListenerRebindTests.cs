using Proxy.Configuration;
using Proxy.Observability;
using Proxy.Observability.Metrics;
using Proxy.Runtime;

namespace Proxy.Tests.Runtime;

/// <summary>
/// An update that recompiles some clusters (a management server changed their endpoints) and keeps the listener's
/// configuration object: the listener's route table and every route action not naming a recompiled cluster are
/// carried over as objects, their state with them; only the actions naming one are remade, bound to the new cluster.
/// The xDS scale benchmark (1,000 virtual hosts) is what this keeps under its 50 ms target.
/// </summary>
public sealed class ListenerRebindTests
{
    private readonly ProxyMetrics _metrics = new(new MetricsRegistry());

    private static ProxyConfig Load() => ConfigLoader.LoadText("""
        listeners:
          - name: web
            address: 127.0.0.1:0
            routes:
              - { match: { path_prefix: /a }, cluster: a, rate_limit: { requests_per_second: 5 } }
              - { match: { path_prefix: /b }, cluster: b, retries: { attempts: 2, budget: { ratio: 0.2, min_per_second: 10 } } }
              - { match: { path_prefix: /both }, split: [ { cluster: a, weight: 1 }, { cluster: b, weight: 1 } ], mirror: { cluster: a } }
          - name: tcp
            address: 127.0.0.1:0
            protocol: tcp
            cluster: a
        clusters:
          - { name: a, endpoints: [ 127.0.0.1:9 ] }
          - { name: b, endpoints: [ 127.0.0.1:10 ] }
        """, "test.yaml").Config!;

    [Fact]
    public void OneClusterRecompiled_KeepsTheTableAndTheOtherActions_RemakesOnlyThoseNamingIt()
    {
        var config = Load();
        var first = SnapshotCompiler.Compile(config, null, _metrics);

        // What a management server's endpoint change of 'a' composes: a new object for 'a', every other object kept.
        var moved = config.Clusters[0] with { Endpoints = new ConfigList<EndpointConfig>([new EndpointConfig { Address = new HostPort("127.0.0.1", 11) }]) };
        var next = SnapshotCompiler.Compile(config with { Clusters = new ConfigList<ClusterConfig>([moved, config.Clusters[1]]) }, first, _metrics);

        var (before, after) = (first.Listeners["web"].Http!, next.Listeners["web"].Http!);
        Assert.NotSame(first.Clusters["a"], next.Clusters["a"]);
        Assert.Same(first.Clusters["b"], next.Clusters["b"]);
        Assert.Same(before.Table, after.Table); // no route was compiled again
        Assert.Same(before.Actions[1], after.Actions[1]); // /b names only 'b': the very same action, retry budget and all
        Assert.NotSame(before.Actions[0], after.Actions[0]);
        Assert.Same(next.Clusters["a"], after.Actions[0].Clusters[0]);
        Assert.Same(before.Actions[0].RateLimit, after.Actions[0].RateLimit); // its bucket carried over
        Assert.Equal(["a", "b"], after.Actions[2].Clusters.Select(static c => c.Name));
        Assert.Same(next.Clusters["a"], after.Actions[2].Clusters[0]);
        Assert.Same(next.Clusters["b"], after.Actions[2].Clusters[1]);
        Assert.Same(next.Clusters["a"], after.Actions[2].MirrorCluster);
        Assert.NotEmpty(after.Filters.Filters); // built for the new routing (rate limit, mirror)
        Assert.Same(next.Clusters["a"], next.Listeners["tcp"].Cluster);
        Assert.Equal("127.0.0.1:11", next.Listeners["tcp"].Cluster!.Endpoints[0].Authority);

        // A management server's RBAC and listener-wide fault ride along: a rebind must never drop an authorization filter.
        var guarded = config with
        {
            Listeners = new ConfigList<ListenerConfig>([config.Listeners[0] with
            {
                HttpRbac = [new Proxy.Filters.Rbac.RbacEngine("deny-all", Proxy.Filters.Rbac.RbacAction.Allow, [])],
                Fault = new FaultConfig { Abort = new FaultAbortConfig { Status = 503, Percent = 1 } },
            }, config.Listeners[1]]),
        };
        var guardedFirst = SnapshotCompiler.Compile(guarded, null, _metrics);
        var guardedNext = SnapshotCompiler.Compile(guarded with { Clusters = new ConfigList<ClusterConfig>([moved, config.Clusters[1]]) }, guardedFirst, _metrics);
        var (guardedBefore, guardedAfter) = (guardedFirst.Listeners["web"].Http!, guardedNext.Listeners["web"].Http!);
        Assert.Same(guardedBefore.Table, guardedAfter.Table); // rebound, not recompiled
        Assert.Same(guardedBefore.Rbac, guardedAfter.Rbac);
        Assert.Same(guardedBefore.RbacDenied, guardedAfter.RbacDenied);
        Assert.NotNull(guardedAfter.Fault);
        Assert.Same(guardedBefore.Fault, guardedAfter.Fault);

        // Nothing recompiled: the listener itself is carried over.
        var again = SnapshotCompiler.Compile(next.Config, next, _metrics);
        Assert.Same(next.Listeners["web"], again.Listeners["web"]);
    }
}
