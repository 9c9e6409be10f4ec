using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http.Http2;
using Proxy.Observability;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http2ServerConnection
{
    /// <summary>
    /// h2 -> h2: the stream is re-sent on a multiplexed upstream connection of the endpoint's pool; bodies and
    /// trailers flow both ways at once (gRPC streaming), resets are passed on.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
    private async ValueTask ForwardToHttp2Async(Http2Stream stream, Endpoint endpoint, Http2ConnectionPool pool, Cluster cluster, RouteMetrics metrics, TimeSpan? timeout, bool grpc, long started)
    {
        Http2HeaderList request = stream.ReceivedHeaders;
        Http2HeaderList outgoing = stream.Outgoing;
        BuildUpstreamRequest(outgoing, request);
        bool endStream = stream.EndStreamReceived && stream.ReceivedBodyBytes == 0 && !stream.HasTrailers;
        Http2Stream? upstream = await pool.OpenStreamAsync(endpoint, outgoing, endStream, cluster.ConnectTimeout, cluster.Metrics).ConfigureAwait(false);
        if (upstream is null)
        {
            await AnswerAsync(stream, metrics, 502, ResponseFlag.UpstreamConnectFailure, grpc, started).ConfigureAwait(false);
            return;
        }

        ValueTask<bool> upload = default;
        bool uploading = false;
        try
        {
            if (!endStream)
            {
                upload = UploadToHttp2Async(stream, upstream);
                uploading = true;
            }

            bool received;
            try
            {
                received = timeout is { } t
                    ? await upstream.HeadersReceived.AsTask().WaitAsync(t).ConfigureAwait(false)
                    : await upstream.HeadersReceived.ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                await upstream.Connection.ResetAsync(upstream, Http2ErrorCode.Cancel).ConfigureAwait(false);
                await AnswerAsync(stream, metrics, 504, ResponseFlag.UpstreamTimeout, grpc, started).ConfigureAwait(false);
                return;
            }

            if (!received)
            {
                await AnswerAsync(stream, metrics, 502, ResponseFlag.UpstreamReset, grpc, started).ConfigureAwait(false);
                return;
            }

            Http2HeaderList upstreamHeaders = upstream.ReceivedHeaders;
            int status = upstreamHeaders.Status;
            Http2HeaderList response = stream.Outgoing;
            response.Reset();
            response.AddStatus(status);
            CopyRegularFields(response, upstreamHeaders);
            bool noBody = upstream.EndStreamReceived && upstream.ReceivedBodyBytes == 0 && !upstream.HasTrailers;
            if (!await SendHeadersAsync(stream, response, noBody).ConfigureAwait(false))
            {
                return;
            }

            bool complete = noBody || await RelayBodyAsync(upstream, stream).ConfigureAwait(false);
            if (!complete)
            {
                await ResetAsync(stream, upstream.ResetCode is { } code && code != Http2ErrorCode.NoError ? code : Http2ErrorCode.InternalError).ConfigureAwait(false);
            }


            metrics.Get(status, complete ? ResponseFlag.None : ResponseFlag.UpstreamReset, grpc)
                .Record(ElapsedMilliseconds(started), request.Size + stream.ReceivedBodyBytes, upstreamHeaders.Size + upstream.ReceivedBodyBytes);
        }
        finally
        {
            if (uploading)
            {
                if (!upload.IsCompleted)
                {
                    // The exchange ended first (response complete, timeout or reset): a request body still flowing
                    // is cut (RST_STREAM downstream follows at release, 8.1). Both streams go back to the pool once
                    // released, so the upload must be over first: the resets end its sends and reads, the
                    // cancelled read wakes one in progress.
                    await upstream.Connection.ResetAsync(upstream, Http2ErrorCode.Cancel).ConfigureAwait(false);
                    stream.Input.CancelPendingRead();
                }

                await upload.ConfigureAwait(false);
            }

            await upstream.Connection.ReleaseStreamAsync(upstream).ConfigureAwait(false);
        }
    }

    /// <summary>The upstream request: pseudo-headers (authority from :authority or host), the fields, the proxy's fields.</summary>
    private void BuildUpstreamRequest(Http2HeaderList target, Http2HeaderList request)
    {
        target.Reset();
        target.Add(":method"u8, request.Method);
        ReadOnlySpan<byte> authority = request.Authority;
        if (authority.IsEmpty)
        {
            request.TryGetValue("host"u8, out authority);
        }

        if (!request.Scheme.IsEmpty)
        {
            target.Add(":scheme"u8, request.Scheme);
        }

        if (!authority.IsEmpty)
        {
            target.Add(":authority"u8, authority);
        }

        if (!request.Path.IsEmpty)
        {
            target.Add(":path"u8, request.Path);
        }

        for (int i = 0; i < request.Count; i++)
        {
            ReadOnlySpan<byte> name = request.GetName(i);
            if (name.SequenceEqual("host"u8) || IsReplacedRequestField(name))
            {
                continue;
            }

            target.Add(name, request.GetValue(i), request.IsNeverIndexed(i));
        }

        AddProxyFields(target, request);
    }

    private static void CopyRegularFields(Http2HeaderList target, Http2HeaderList source)
    {
        for (int i = 0; i < source.Count; i++)
        {
            target.Add(source.GetName(i), source.GetValue(i), source.IsNeverIndexed(i));
        }
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> UploadToHttp2Async(Http2Stream source, Http2Stream target)
    {
        try
        {
            if (await RelayBodyAsync(source, target).ConfigureAwait(false))
            {
                return true;
            }
        }
        catch (Exception ex) when (IsConnectionLoss(ex))
        {
            // fall through to the reset
        }

        await target.Connection.ResetAsync(target, Http2ErrorCode.Cancel).ConfigureAwait(false);
        return false;
    }

    /// <summary>
    /// Copies the body of <paramref name="source"/> to <paramref name="target"/> (they live on different connections),
    /// crediting the source's windows as bytes leave, then its trailers or END_STREAM. False on a reset either side.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> RelayBodyAsync(Http2Stream source, Http2Stream target)
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await source.Input.ReadAsync().ConfigureAwait(false);
            }
            catch (Http2StreamResetException)
            {
                return false;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            bool end = result.IsCompleted;
            bool last = end && !source.HasTrailers;
            bool sent = true;
            if (!buffer.IsEmpty || last)
            {
                sent = await target.Connection.SendDataAsync(target, buffer, last).ConfigureAwait(false);
            }

            int length = (int)buffer.Length;
            source.Input.AdvanceTo(buffer.End);
            await source.Connection.OnDataConsumed(source, length).ConfigureAwait(false);
            if (!sent || result.IsCanceled)
            {
                return false;
            }

            if (end)
            {
                if (!source.HasTrailers)
                {
                    return true;
                }

                Http2HeaderList trailers = target.Outgoing;
                trailers.Reset();
                CopyRegularFields(trailers, source.ReceivedTrailers);
                return await target.Connection.SendHeadersAsync(target, trailers, endStream: true).ConfigureAwait(false);
            }
        }
    }
}
