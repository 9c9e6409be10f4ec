using System.Net;
using Proxy.Upstream;

namespace Proxy.Core.Tests.Upstream;

public class OriginalDestinationEndpointsTests
{
    private static OriginalDestinationEndpoints Make(int? portOverride = null, TimeSpan? cleanup = null, List<Endpoint>? prepared = null) =>
        new(portOverride, cleanup ?? TimeSpan.FromSeconds(5), http2: false, endpoint =>
        {
            endpoint.Pool = new ConnectionPool(4);
            prepared?.Add(endpoint);
        });

    [Fact]
    public void For_OneEndpointPerDestination_MadeOnceAndPrepared()
    {
        var prepared = new List<Endpoint>();
        var endpoints = Make(prepared: prepared);
        var a = endpoints.For(new IPEndPoint(IPAddress.Parse("10.0.0.5"), 8080));
        var again = endpoints.For(new IPEndPoint(IPAddress.Parse("10.0.0.5"), 8080));
        var b = endpoints.For(new IPEndPoint(IPAddress.Parse("10.0.0.5"), 9090));

        Assert.Same(a, again);
        Assert.NotSame(a, b);
        Assert.Equal("10.0.0.5:8080", a.Authority);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.0.5"), 9090), b.Address);
        Assert.Equal([a, b], prepared);
        Assert.Equal(2, endpoints.Count);
    }

    [Fact]
    public void For_PortOverrideAndMappedAddresses_GiveThePlainTarget()
    {
        var endpoints = Make(portOverride: 15020);
        var endpoint = endpoints.For(new IPEndPoint(IPAddress.Parse("::ffff:10.1.2.3"), 80));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 15020), endpoint.Address);
        Assert.Equal("10.1.2.3:15020", endpoint.Authority);
    }

    [Fact]
    public void For_ForgetsEndpointsUnusedForTheCleanupInterval_AndGivesBackTheirConnections()
    {
        var endpoints = Make(cleanup: TimeSpan.FromMilliseconds(500));
        var old = endpoints.For(new IPEndPoint(IPAddress.Loopback, 1000));
        Thread.Sleep(700);

        var fresh = endpoints.For(new IPEndPoint(IPAddress.Loopback, 2000)); // the pick that finds the sweep due
        Assert.Equal(1, endpoints.Count);
        Assert.NotSame(old, endpoints.For(new IPEndPoint(IPAddress.Loopback, 1000)));
        Assert.Same(fresh, endpoints.For(new IPEndPoint(IPAddress.Loopback, 2000)));
    }

    [Fact]
    public void Clear_ForgetsEveryEndpoint()
    {
        var endpoints = Make();
        endpoints.For(new IPEndPoint(IPAddress.Loopback, 1000));
        endpoints.Clear();
        Assert.Equal(0, endpoints.Count);
    }
}
