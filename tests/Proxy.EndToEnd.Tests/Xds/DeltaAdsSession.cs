using System.Threading.Channels;
using Envoy.Service.Discovery.V3;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>One incremental ADS stream (DeltaAggregatedResources) as the scripted server sees it: the proxy's requests in order, and a way to respond.</summary>
public sealed class DeltaAdsSession(IServerStreamWriter<DeltaDiscoveryResponse> responses, CancellationToken streamAborted)
{
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _nonce;

    /// <summary>Completes when the test ends the stream.</summary>
    public Task Ended => _ended.Task;

    public void End() => _ended.TrySetResult();

    public Channel<DeltaDiscoveryRequest> Requests { get; } = Channel.CreateUnbounded<DeltaDiscoveryRequest>();

    /// <summary>The next request the proxy sent on this stream.</summary>
    public async Task<DeltaDiscoveryRequest> NextRequestAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        return await Requests.Reader.ReadAsync(cts.Token);
    }

    /// <summary>The next request of <paramref name="typeUrl"/>, skipping others.</summary>
    public async Task<DeltaDiscoveryRequest> NextRequestAsync(string typeUrl)
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

    /// <summary>Whether no request arrives within <paramref name="wait"/>.</summary>
    public async Task<bool> QuietAsync(TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        try
        {
            await Requests.Reader.WaitToReadAsync(cts.Token);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    /// <summary>
    /// Sends an incremental response: <paramref name="resources"/> with their versions (name, version, resource) and
    /// the names in <paramref name="removed"/>; returns its nonce.
    /// </summary>
    public Task<string> SendAsync(string typeUrl, string systemVersion, IEnumerable<(string Name, string Version, IMessage Resource)> resources, params string[] removed) =>
        SendWrappedAsync(typeUrl, systemVersion, resources.Select(r => new Resource { Name = r.Name, Version = r.Version, Resource_ = Any.Pack(r.Resource) }), removed);

    /// <summary>Sends an incremental response of <c>Resource</c> wrappers as given (bytes as a broken server might send them); returns its nonce.</summary>
    public async Task<string> SendWrappedAsync(string typeUrl, string systemVersion, IEnumerable<Resource> resources, params string[] removed)
    {
        var nonce = "d" + Interlocked.Increment(ref _nonce);
        var response = new DeltaDiscoveryResponse { TypeUrl = typeUrl, SystemVersionInfo = systemVersion, Nonce = nonce };
        response.Resources.Add(resources);
        response.RemovedResources.Add(removed);
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
}
