using System.Collections.Concurrent;
using System.Diagnostics;
using Envoy.Service.Discovery.V3;
using Google.Protobuf;
using Proxy.Xds;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// A small control plane over the scripted ADS server, as istiod behaves (pilot/pkg/xds/server.go ShouldRespond): it
/// holds the current resources of each type and answers every stream the proxy opens from them, so a proxy that
/// reconnects after the server restarts is resynced without the test scripting it. A request with no nonce, or with
/// other resource names than the last answer went out for, gets the current resources of its type; a request echoing
/// the newest nonce with the same names is an ACK (recorded with its time); a stale nonce is ignored; a NACK is
/// recorded. <see cref="SetAsync"/> changes a type's resources and pushes them on the open stream, if any.
/// </summary>
public sealed class XdsChurnControlPlane : IAsyncDisposable
{
    private static readonly string[] WildcardTypes = [XdsTypeUrls.Cluster, XdsTypeUrls.Listener];
    private readonly ScriptedAdsServer _server;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly Dictionary<string, (int Version, Dictionary<string, IMessage> Resources)> _state = [];
    private readonly Dictionary<string, (string Nonce, string Names)> _answered = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private AdsSession? _session;

    public XdsChurnControlPlane(ScriptedAdsServer server)
    {
        _server = server;
        _serving = Task.Run(ServeAsync);
    }

    /// <summary>The NACKs the proxy sent (their error_detail), which no test here expects.</summary>
    public ConcurrentQueue<string> Nacks { get; } = new();

    /// <summary>Streams the proxy opened so far.</summary>
    public int Streams => Volatile.Read(ref _streams);

    private int _streams;

    /// <summary>The first request of each type on the newest stream (the restated versions after a reconnect).</summary>
    public ConcurrentDictionary<string, DiscoveryRequest> FirstRequests { get; } = new();

    /// <summary>When each nonce was ACKed (Stopwatch timestamp).</summary>
    public ConcurrentDictionary<string, long> Acked { get; } = new();

    /// <summary>
    /// Replaces the resources of <paramref name="typeUrl"/> named in <paramref name="resources"/> (all of them for
    /// clusters and listeners, which are state of the world) and sends them on the open stream. Returns when the
    /// response went out (Stopwatch timestamp) and its nonce; the nonce is null when no stream is open (the next one
    /// gets the new state when it asks).
    /// </summary>
    public async Task<(long Sent, string? Nonce)> SetAsync(string typeUrl, params (string Name, IMessage Resource)[] resources)
    {
        if (!await _lock.WaitAsync(TimeSpan.FromSeconds(20)))
        {
            throw new TimeoutException("the control plane's lock was held for 20 s");
        }

        try
        {
            var (version, held) = _state.TryGetValue(typeUrl, out var s) ? s : (0, new Dictionary<string, IMessage>());
            if (WildcardTypes.Contains(typeUrl))
            {
                held = [];
            }

            foreach (var (name, resource) in resources)
            {
                held[name] = resource;
            }

            _state[typeUrl] = (version + 1, held);
            if (_session is not { } session || !_answered.TryGetValue(typeUrl, out var answered))
            {
                return (Stopwatch.GetTimestamp(), null);
            }

            // Types subscribed by name get what changed; the wildcard types their whole set.
            var nonce = await SendLockedAsync(session, typeUrl, WildcardTypes.Contains(typeUrl) ? [.. held.Values] : [.. resources.Select(static r => r.Resource)], answered.Names);
            return (Stopwatch.GetTimestamp(), nonce);
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            AdsSession session;
            try
            {
                session = await _server.NextSessionAsync(Timeout.InfiniteTimeSpan).WaitAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await _lock.WaitAsync();
            _session = session;
            _answered.Clear();
            FirstRequests.Clear();
            Interlocked.Increment(ref _streams);
            _lock.Release();
            try
            {
                while (await session.Requests.Reader.WaitToReadAsync(_stop.Token))
                {
                    while (session.Requests.Reader.TryRead(out var request))
                    {
                        await HandleAsync(session, request);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task HandleAsync(AdsSession session, DiscoveryRequest request)
    {
        FirstRequests.TryAdd(request.TypeUrl, request);
        if (request.ErrorDetail is { } error)
        {
            Nacks.Enqueue($"{request.TypeUrl} {request.ResponseNonce}: {error.Message}");
            return;
        }

        var names = string.Join(",", request.ResourceNames.Order(StringComparer.Ordinal));
        await _lock.WaitAsync();
        try
        {
            if (_answered.TryGetValue(request.TypeUrl, out var answered) && request.ResponseNonce.Length > 0 && answered.Names == names)
            {
                if (request.ResponseNonce == answered.Nonce)
                {
                    Acked.TryAdd(request.ResponseNonce, Stopwatch.GetTimestamp());
                }

                return; // an ACK, or a stale nonce: nothing to answer
            }

            var held = _state.TryGetValue(request.TypeUrl, out var s) ? s.Resources : [];
            IMessage[] resources = WildcardTypes.Contains(request.TypeUrl)
                ? [.. held.Values]
                : [.. request.ResourceNames.Where(held.ContainsKey).Select(n => held[n])];
            await SendLockedAsync(session, request.TypeUrl, resources, names);
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task<string?> SendLockedAsync(AdsSession session, string typeUrl, IMessage[] resources, string names)
    {
        try
        {
            var version = _state.TryGetValue(typeUrl, out var s) ? s.Version : 0;
            var nonce = await session.SendAsync(typeUrl, $"v{version}", resources).WaitAsync(TimeSpan.FromSeconds(10));
            _answered[typeUrl] = (nonce, names);
            return nonce;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException or Grpc.Core.RpcException or TimeoutException)
        {
            return null; // the stream died (the server stopped): the next stream asks again
        }
    }

    /// <summary>Waits until <paramref name="nonce"/> is ACKed; false after <paramref name="timeout"/>.</summary>
    public async Task<bool> AckedAsync(string nonce, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (!Acked.ContainsKey(nonce))
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                return false;
            }

            await Task.Delay(5);
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _serving.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }
}
