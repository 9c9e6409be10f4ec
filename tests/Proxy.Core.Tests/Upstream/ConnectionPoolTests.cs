using System.Net;
using Proxy.Configuration;
using Proxy.Tests.Transport;
using Proxy.Upstream;

namespace Proxy.Tests.Upstream;

public class ConnectionPoolTests
{
    private static readonly Endpoint Endpoint = new("127.0.0.1:1", new IPEndPoint(IPAddress.Loopback, 1));

    private static async Task<(LoopbackPair[] Pairs, UpstreamConnection[] Connections)> OpenAsync(int count)
    {
        var pairs = new LoopbackPair[count];
        var connections = new UpstreamConnection[count];
        for (var i = 0; i < count; i++)
        {
            pairs[i] = await LoopbackPair.OpenAsync();
            connections[i] = new UpstreamConnection(pairs[i].Connection, Endpoint);
        }

        return (pairs, connections);
    }

    private static void DisposeAll(LoopbackPair[] pairs)
    {
        foreach (var pair in pairs)
        {
            pair.Dispose();
        }
    }

    [Fact]
    public void DefaultMaxIdle_IsAMemoryBoundFarAboveASmallFixedCap()
    {
        Assert.Equal(10_000, new PoolConfig().MaxIdle);
    }

    [Fact]
    public async Task Return_MoreThanTheFirstSegment_KeepsEveryConnectionForTheNextBurst()
    {
        var (pairs, connections) = await OpenAsync(100);
        try
        {
            var pool = new ConnectionPool(PoolConfig.DefaultMaxIdle);
            var now = Environment.TickCount64;
            foreach (var connection in connections)
            {
                pool.Return(connection, now);
            }

            Assert.Equal(100, pool.IdleCount);
            Assert.True(pool.Capacity >= 100);

            var rented = new HashSet<UpstreamConnection>();
            for (var i = 0; i < 100; i++)
            {
                var connection = pool.TryRent(now);
                Assert.NotNull(connection);
                Assert.True(rented.Add(connection));
            }

            Assert.Null(pool.TryRent(now));
            Assert.Equal(0, pool.IdleCount);
            Assert.All(pairs, pair => Assert.False(pair.Connection.Socket.SafeHandle.IsClosed));
        }
        finally
        {
            DisposeAll(pairs);
        }
    }

    [Fact]
    public async Task Return_GrowsTheSlotsInDoublingSegments()
    {
        var (pairs, connections) = await OpenAsync(ConnectionPool.FirstSegmentSize + 1);
        try
        {
            var pool = new ConnectionPool(PoolConfig.DefaultMaxIdle);
            Assert.Equal(ConnectionPool.FirstSegmentSize, pool.Capacity);
            foreach (var connection in connections)
            {
                pool.Return(connection, Environment.TickCount64);
            }

            Assert.Equal(3 * ConnectionPool.FirstSegmentSize, pool.Capacity);
            Assert.Equal(connections.Length, pool.IdleCount);
        }
        finally
        {
            DisposeAll(pairs);
        }
    }

    [Fact]
    public async Task Return_BeyondMaxIdle_ClosesTheExtraConnections()
    {
        var (pairs, connections) = await OpenAsync(25);
        try
        {
            var pool = new ConnectionPool(20);
            foreach (var connection in connections)
            {
                pool.Return(connection, Environment.TickCount64);
            }

            Assert.Equal(20, pool.IdleCount);
            Assert.Equal(20, pool.Capacity);
            for (var i = 20; i < 25; i++)
            {
                Assert.Equal(0, await pairs[i].ReadPeerToEndAsync());
                Assert.True(await pairs[i].WaitForSocketClosedAsync());
            }
        }
        finally
        {
            DisposeAll(pairs);
        }
    }

    [Fact]
    public async Task Sweep_ClosesConnectionsIdlePastTheTimeout_AndKeepsTheRest()
    {
        var (pairs, connections) = await OpenAsync(40);
        try
        {
            var pool = new ConnectionPool(PoolConfig.DefaultMaxIdle) { IdleTimeout = TimeSpan.FromSeconds(60) };
            var now = Environment.TickCount64;
            for (var i = 0; i < connections.Length; i++)
            {
                pool.Return(connections[i], i < 30 ? now - 120_000 : now);
            }

            pool.Sweep(now);

            Assert.Equal(10, pool.IdleCount);
            for (var i = 0; i < 30; i++)
            {
                Assert.Equal(0, await pairs[i].ReadPeerToEndAsync());
                Assert.True(await pairs[i].WaitForSocketClosedAsync());
            }

            Assert.All(pairs[30..], pair => Assert.False(pair.Connection.Socket.SafeHandle.IsClosed));
        }
        finally
        {
            DisposeAll(pairs);
        }
    }

    [Fact]
    public async Task TryRent_ConnectionTheUpstreamClosed_IsClosedAndSkipped()
    {
        var (pairs, connections) = await OpenAsync(2);
        try
        {
            var pool = new ConnectionPool(PoolConfig.DefaultMaxIdle);
            var now = Environment.TickCount64;
            pool.Return(connections[0], now);
            pool.Return(connections[1], now);
            pairs[1].Peer.Shutdown(System.Net.Sockets.SocketShutdown.Both);
            var result = await connections[1].Input.ReadAsync(); // wait for the FIN to reach the pipe
            connections[1].Input.AdvanceTo(result.Buffer.Start);

            Assert.Same(connections[0], pool.TryRent(now));
            Assert.Null(pool.TryRent(now));
            Assert.True(await pairs[1].WaitForSocketClosedAsync());
        }
        finally
        {
            DisposeAll(pairs);
        }
    }

    [Fact]
    public async Task Clear_ClosesEveryIdleConnection()
    {
        var (pairs, connections) = await OpenAsync(20);
        try
        {
            var pool = new ConnectionPool(PoolConfig.DefaultMaxIdle);
            foreach (var connection in connections)
            {
                pool.Return(connection, Environment.TickCount64);
            }

            pool.Clear();

            Assert.Equal(0, pool.IdleCount);
            foreach (var pair in pairs)
            {
                Assert.Equal(0, await pair.ReadPeerToEndAsync());
                Assert.True(await pair.WaitForSocketClosedAsync());
            }
        }
        finally
        {
            DisposeAll(pairs);
        }
    }
}
