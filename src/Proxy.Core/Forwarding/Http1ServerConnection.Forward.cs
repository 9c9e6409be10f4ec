using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Pipelines.Sockets.Unofficial;
using Proxy.Http;
using Proxy.Http.Http1;
using Proxy.LoadBalancing;
using Proxy.Observability;
using Proxy.Runtime;
using Proxy.Transport;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    /// <summary>
    /// Forwards the parsed request and its response. Returns true when the downstream connection can
    /// carry another request.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ForwardAsync()
    {
        var started = Stopwatch.GetTimestamp();
        var framing = _request.BodyFraming;
        var hasBody = framing == Http1BodyFraming.Chunked || (framing == Http1BodyFraming.ContentLength && _request.ContentLength > 0);
        var downstreamKeepAlive = _request.KeepAlive;

        if (_maxBodyBytes > 0 && framing == Http1BodyFraming.ContentLength && _request.ContentLength > _maxBodyBytes)
        {
            return await AnswerAsync(_routing.NoRoute, 413, ResponseFlag.RequestTooLarge, started, close: true).ConfigureAwait(false);
        }

        var view = new Http1RequestView(_request);
        var route = _routing.Table.Match(ref view);
        if (route is null)
        {
            return await AnswerAsync(_routing.NoRoute, 404, ResponseFlag.NoRoute, started, close: hasBody || !downstreamKeepAlive).ConfigureAwait(false);
        }

        var action = _routing.Actions[route.Index];
        var clusterIndex = route.Clusters.Count == 1 ? 0 : route.PickClusterIndex((uint)Random.Shared.Next());
        var cluster = action.Clusters[clusterIndex];
        var routeMetrics = action.Metrics[clusterIndex];
        var endpoint = cluster.Pick(PickContextFor(cluster));
        if (endpoint is null)
        {
            return await AnswerAsync(routeMetrics, 503, ResponseFlag.NoHealthyEndpoint, started, close: hasBody || !downstreamKeepAlive).ConfigureAwait(false);
        }

        endpoint.OnRequestStarted();
        var latencyStart = Stopwatch.GetTimestamp();
        try
        {
            return await ExchangeAsync(endpoint, cluster, action, routeMetrics, hasBody, downstreamKeepAlive, started).ConfigureAwait(false);
        }
        finally
        {
            endpoint.OnRequestCompleted(Stopwatch.GetElapsedTime(latencyStart));
        }
    }

    /// <summary>Sends the request to <paramref name="endpoint"/> and relays the response.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ExchangeAsync(Endpoint endpoint, Cluster cluster, RouteRuntime action, RouteMetrics routeMetrics, bool hasBody, bool downstreamKeepAlive, long started)
    {
        if (endpoint.Http2Pool is { } http2)
        {
            // The cluster speaks HTTP/2: the request becomes a stream on a multiplexed upstream connection.
            return await ExchangeOverHttp2Async(endpoint, http2, cluster, action, routeMetrics, hasBody, downstreamKeepAlive, started).ConfigureAwait(false);
        }

        UpstreamConnection? upstream = null;
        Task<bool>? upload = null;
        long requestBytes = _request.HeadLength;
        try
        {
            // A request that is safe to repeat and has no body gets a second try on a fresh
            // connection when a pooled one turns out to have been closed by the upstream.
            var retryable = !hasBody && _request.Method.IsIdempotent();
            HeadReadResult head;
            while (true)
            {
                upstream = endpoint.Pool.TryRent(Environment.TickCount64);
                if (upstream is null)
                {
                    upstream = await ConnectAsync(endpoint, cluster).ConfigureAwait(false);
                    if (upstream is null)
                    {
                        return await AnswerAsync(routeMetrics, 502, ResponseFlag.UpstreamConnectFailure, started, close: hasBody || !downstreamKeepAlive).ConfigureAwait(false);
                    }
                }

                upstream.Requests++;
                WriteRequestHead(upstream.Output, hasBody);
                var flush = await upstream.Output.FlushAsync().ConfigureAwait(false);
                if (hasBody && !flush.IsCompleted)
                {
                    // The body streams while we wait for the response: the upstream may answer
                    // early (or send 100 Continue first, which the client waits for).
                    upload = UploadBodyAsync(upstream.Output);
                }

                StartRequestTimer(action.Timeout);
                head = flush.IsCompleted ? HeadReadResult.Closed : await ReadResponseHeadAsync(upstream, downstreamKeepAlive).ConfigureAwait(false);
                if (head == HeadReadResult.Closed && upstream.IsReused && retryable)
                {
                    StopRequestTimer(action.Timeout);
                    upstream.Dispose();
                    upstream = null;
                    _metrics.UpstreamRetries.WithLabels(cluster.Name).Increment();
                    continue;
                }

                break;
            }

            StopRequestTimer(action.Timeout);
            if (head != HeadReadResult.Parsed)
            {
                var (status, flag) = head switch
                {
                    HeadReadResult.TimedOut => (504, ResponseFlag.UpstreamTimeout),
                    HeadReadResult.Invalid => (502, ResponseFlag.BadUpstreamResponse),
                    _ => (502, ResponseFlag.UpstreamReset),
                };
                upstream.Dispose();
                upstream = null;
                if (Volatile.Read(ref _closed) != 0)
                {
                    return false;
                }

                return await AnswerAsync(routeMetrics, status, flag, started, close: true).ConfigureAwait(false);
            }

            var result = await RelayResponseAsync(upstream, downstreamKeepAlive).ConfigureAwait(false);
            var reusable = result.UpstreamReusable;
            var keepAlive = result.DownstreamKeepAlive;
            if (upload is not null)
            {
                if (upload.IsCompleted)
                {
                    var uploaded = await upload.ConfigureAwait(false);
                    reusable &= uploaded;
                    keepAlive &= uploaded;
                }
                else
                {
                    // The upstream answered without reading the whole body: neither side can be reused.
                    reusable = false;
                    keepAlive = false;
                    _input.CancelPendingRead();
                }

                requestBytes += _uploadedBytes;
            }

            routeMetrics.Get(_response.StatusCode, result.Flag).Record(ElapsedMilliseconds(started), requestBytes, result.ResponseBytes);
            if (reusable)
            {
                endpoint.Pool.Return(upstream, Environment.TickCount64);
                upstream = null;
            }

            return keepAlive;
        }
        finally
        {
            _awaitedUpstream = null;
            upstream?.Dispose();
        }
    }

    private PickContext PickContextFor(Cluster cluster)
    {
        if (cluster.HashHeader is { } header && _request.TryGetValue(header, out var value))
        {
            return PickContext.ForKey(value);
        }

        return cluster.HashOnClientAddress && _clientAddress is not null
            ? PickContext.ForAddress(_clientAddress)
            : PickContext.None;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<UpstreamConnection?> ConnectAsync(Endpoint endpoint, Cluster cluster)
    {
        var started = Environment.TickCount64;
        try
        {
            var socket = await Connector.ConnectAsync(endpoint.Address, cluster.ConnectTimeout).ConfigureAwait(false);
            cluster.Metrics.Connections.Increment();
            cluster.Metrics.ConnectDuration.Observe(Environment.TickCount64 - started);
            return new UpstreamConnection(socket, endpoint);
        }
        catch (TimeoutException)
        {
            cluster.Metrics.ConnectTimeouts.Increment();
        }
        catch (SocketException)
        {
            cluster.Metrics.ConnectRefused.Increment();
        }

        return null;
    }

    /// <summary>Writes the forwarded request head: original field lines, framing re-derived, X-Forwarded-* added.</summary>
    private void WriteRequestHead(PipeWriter output, bool hasBody)
    {
        Span<byte> requestId = _requestId;
        if (!_request.Contains(KnownHeader.XRequestId))
        {
            Guid.NewGuid().TryFormat(requestId, out _, "D");
        }

        var options = new Http1ForwardOptions
        {
            Framing = !hasBody ? Http1BodyFraming.None : _request.IsChunked ? Http1BodyFraming.Chunked : Http1BodyFraming.ContentLength,
            ContentLength = _request.ContentLength,
            ForwardUpgrade = _request.IsUpgradeRequest,
            Connection = _request.IsUpgradeRequest ? "upgrade"u8 : default,
            ForwardedFor = _clientAddressText,
            ForwardedProto = "http"u8,
            ForwardedHost = _request.Host,
            RequestId = requestId,
        };
        Http1HeadWriter.WriteRequest(output, _request, options);
    }

    /// <summary>Answers with a response the proxy generates (404, 413, 502, 503, 504), with its flag.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> AnswerAsync(RouteMetrics metrics, int status, ResponseFlag flag, long started, bool close)
    {
        if (_request.Method == RequestMethod.Head)
        {
            Http1HeadWriter.WriteErrorResponse(_output, status, flag.HeaderValue(), " "u8, close);
        }
        else
        {
            Http1HeadWriter.WriteErrorResponse(_output, status, flag.HeaderValue(), default, close);
        }

        metrics.Get(status, flag).Record(ElapsedMilliseconds(started), _request.HeadLength, 0);
        var flush = await _output.FlushAsync().ConfigureAwait(false);
        return !close && !flush.IsCompleted;
    }
}
