using System.Threading.Channels;
using Envoy.Config.Cluster.V3;
using Envoy.Config.Endpoint.V3;
using Envoy.Service.Discovery.V3;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Proxy.Xds;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>One ADS stream as the scripted server sees it: the proxy's requests in order, and a way to respond.</summary>
public sealed class AdsSession(IServerStreamWriter<DiscoveryResponse> responses, CancellationToken streamAborted)
{
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _nonce;

    /// <summary>Completes when the test ends the stream.</summary>
    public Task Ended => _ended.Task;

    /// <summary>Ends the stream from the server's side (status OK), as a control plane that rebalances its clients does.</summary>
    public void End() => _ended.TrySetResult();

    public Channel<DiscoveryRequest> Requests { get; } = Channel.CreateUnbounded<DiscoveryRequest>();

    /// <summary>The next request the proxy sent on this stream.</summary>
    public async Task<DiscoveryRequest> NextRequestAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        return await Requests.Reader.ReadAsync(cts.Token);
    }

    /// <summary>The next request of <paramref name="typeUrl"/>, skipping others.</summary>
    public async Task<DiscoveryRequest> NextRequestAsync(string typeUrl)
    {
        while (true)
        {
            var request = await NextRequestAsync();
            if (request.TypeUrl == typeUrl)
            {
                return request;
            }
        }
    }

    /// <summary>Sends a state-of-the-world response; returns its nonce.</summary>
    public Task<string> SendAsync(string typeUrl, string version, params IMessage[] resources) =>
        SendPackedAsync(typeUrl, version, [.. resources.Select(r => Any.Pack(r))]);

    /// <summary>Sends a state-of-the-world response of resources already packed (bytes as a broken server might send them); returns its nonce.</summary>
    public async Task<string> SendPackedAsync(string typeUrl, string version, params Any[] resources)
    {
        var nonce = "n" + Interlocked.Increment(ref _nonce);
        var response = new DiscoveryResponse { TypeUrl = typeUrl, VersionInfo = version, Nonce = nonce };
        response.Resources.Add(resources);

        await _writeLock.WaitAsync(streamAborted);
        try
        {
            await responses.WriteAsync(response, streamAborted);
        }
        finally
        {
            _writeLock.Release();
        }

        return nonce;
    }

    public Task<string> SendClustersAsync(string version, params Cluster[] clusters) => SendAsync(XdsTypeUrls.Cluster, version, clusters);

    public Task<string> SendEndpointsAsync(string version, params ClusterLoadAssignment[] assignments) => SendAsync(XdsTypeUrls.ClusterLoadAssignment, version, assignments);
}
