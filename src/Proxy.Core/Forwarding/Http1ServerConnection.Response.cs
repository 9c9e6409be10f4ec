using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http.Http1;
using Proxy.Transport;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    /// <summary>
    /// Reads the final response head. Interim 1xx responses (100 Continue, 103 Early Hints) are
    /// relayed to the client as they come (RFC 9110 section 15.2); 101 ends the loop as final.
    /// The route / per-try timeout, when there is one, cancels the pending read
    /// (<see cref="ResponseHeadTimeout.Arm(PipeReader, TimeSpan?)"/>, one timer reused by every request of the
    /// connection, which a late callback of an earlier wait cannot fire). With <paramref name="watchClient"/> (the
    /// request was read whole) the client's side is watched meanwhile (<see cref="WatchClientAsync"/>): its FIN or
    /// RST cancels the read too, and <see cref="_clientGone"/> says so.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<HeadReadResult> ReadResponseHeadAsync(UpstreamConnection upstream, TimeSpan? timeout, bool watchClient)
    {
        var input = upstream.Input;
        var sawAnyByte = false;
        HeadReadResult head;
        bool timedOut;
        var responseTimeout = ResponseTimeout;
        responseTimeout.Arm(input, timeout);
        var watch = watchClient ? WatchClientAsync() : default;
        try
        {
            while (true)
            {
                _response.Reset();
                ReadResult result;
                try
                {
                    result = await input.ReadAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
                {
                    head = sawAnyByte ? HeadReadResult.Truncated : HeadReadResult.Closed;
                    break;
                }

                var step = Http1ResponseHeadStep.Parse(input, _response, result, ref sawAnyByte, out head);
                if (step == Http1ResponseHeadStep.Outcome.Interim)
                {
                    var options = new Http1ForwardOptions { Framing = Http1BodyFraming.None };
                    Http1HeadWriter.WriteResponse(_output, _response, options);
                    await _output.FlushAsync().ConfigureAwait(false);
                    continue;
                }

                if (step == Http1ResponseHeadStep.Outcome.Done)
                {
                    break;
                }
            }
        }
        finally
        {
            timedOut = responseTimeout.Disarm();
        }

        _clientGone = (watchClient && await StopWatchingClientAsync(watch).ConfigureAwait(false)) || responseTimeout.DownstreamGone;

        // A timeout that fired as the head completed still counts: its cancellation may be pending on the
        // connection, which is therefore closed rather than used for the body or pooled.
        return timedOut ? HeadReadResult.TimedOut : head;
    }

    /// <summary>Writes the response head to the client and streams its body in the framing the client can read.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<RelayResult> RelayResponseAsync(UpstreamConnection upstream, bool downstreamKeepAlive)
    {
        var upstreamFraming = _response.GetBodyFraming(_request.Method);
        var status = _response.StatusCode;

        // Switching protocols (WebSocket) or a successful CONNECT: from here on, bytes both ways.
        if ((status == 101 && _request.IsUpgradeRequest) || upstreamFraming == Http1BodyFraming.Tunnel)
        {
            var tunnelOptions = new Http1ForwardOptions
            {
                Framing = Http1BodyFraming.None,
                ForwardUpgrade = status == 101,
                Connection = status == 101 ? "upgrade"u8 : default,
            };
            Http1HeadWriter.WriteResponse(_output, _response, tunnelOptions);
            await _output.FlushAsync().ConfigureAwait(false);
            var bytes = await TunnelAsync(upstream).ConfigureAwait(false);
            return new RelayResult(false, false, _response.HeadLength + bytes, ResponseFlag.None);
        }

        var upstreamKeepAlive = _response.KeepAlive && upstreamFraming != Http1BodyFraming.CloseDelimited;
        var clientIsHttp11 = _request.Version == Http1Version.Http11;

        // The client gets chunked when the length is unknown and it speaks HTTP/1.1; an HTTP/1.0
        // client gets a close-delimited body instead.
        var downstreamFraming = upstreamFraming switch
        {
            Http1BodyFraming.ContentLength => Http1BodyFraming.ContentLength,
            Http1BodyFraming.Chunked or Http1BodyFraming.CloseDelimited => clientIsHttp11 ? Http1BodyFraming.Chunked : Http1BodyFraming.CloseDelimited,
            _ => Http1BodyFraming.None,
        };
        var keepAlive = downstreamKeepAlive && !_draining && downstreamFraming != Http1BodyFraming.CloseDelimited;

        var options = new Http1ForwardOptions
        {
            Framing = downstreamFraming == Http1BodyFraming.CloseDelimited ? Http1BodyFraming.None : downstreamFraming,
            ContentLength = _response.ContentLength,
            Connection = keepAlive ? (clientIsHttp11 ? default : "keep-alive"u8) : "close"u8,
        };

        // HEAD and 304 answers describe a body they do not carry: keep the upstream's length.
        if (upstreamFraming == Http1BodyFraming.None && _response.ContentLength >= 0)
        {
            options.Framing = Http1BodyFraming.ContentLength;
        }

        // The route's changes to the response's fields: its own ones it removes or replaces left out, its additions after.
        var response = _response;
        if (_exchange.PrepareResponse(ref response, upstream.Endpoint))
        {
            options.Removed = _exchange.ResponseChanges!.Removed;
            options.AddedLines = _exchange.ResponseHeadersToAdd.Http1Lines;
        }

        Http1HeadWriter.WriteResponse(_output, _response, options);
        long responseBytes = _response.HeadLength;
        bool complete;
        switch (upstreamFraming)
        {
            case Http1BodyFraming.None:
                complete = !(await _output.FlushAsync().ConfigureAwait(false)).IsCompleted;
                break;
            case Http1BodyFraming.ContentLength:
                complete = await PipeCopy.CopyLengthAsync(upstream.Input, _output, _response.ContentLength, _activity).ConfigureAwait(false);
                responseBytes += _response.ContentLength;
                if (complete)
                {
                    complete = !(await _output.FlushAsync().ConfigureAwait(false)).IsCompleted;
                }

                break;
            case Http1BodyFraming.Chunked:
                (complete, var chunkedBytes) = await RelayChunkedAsync(upstream.Input, downstreamFraming == Http1BodyFraming.Chunked).ConfigureAwait(false);
                responseBytes += chunkedBytes;
                break;
            default:
                (complete, var closeBytes) = await RelayUntilCloseAsync(upstream.Input, downstreamFraming == Http1BodyFraming.Chunked).ConfigureAwait(false);
                responseBytes += closeBytes;
                break;
        }

        if (!complete)
        {
            // The upstream died mid-body: the client sees the connection close (a truncated body),
            // which is the only honest signal once the status line has gone out. Or the client went away.
            var flag = await ClientWentAwayAsync().ConfigureAwait(false) ? ResponseFlag.DownstreamDisconnect : ResponseFlag.UpstreamReset;
            return new RelayResult(false, false, responseBytes, flag);
        }

        return new RelayResult(upstreamKeepAlive, keepAlive, responseBytes, ResponseFlag.None);
    }

    /// <summary>Decodes the upstream's chunked body and re-encodes it (or writes it raw for an HTTP/1.0 client).</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<(bool Complete, long Bytes)> RelayChunkedAsync(PipeReader input, bool chunkedToClient)
    {
        ResponseChunks.Reset();
        long bytes = 0;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
            {
                return (false, bytes);
            }

            var buffer = result.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            var status = ChunkedDecodeStatus.NeedMoreData;
            while (true)
            {
                status = ResponseChunks.Decode(ref reader, out var data);
                if (status != ChunkedDecodeStatus.Data)
                {
                    break;
                }

                bytes += data.Length;
                if (chunkedToClient)
                {
                    ChunkedEncoder.WriteChunk(_output, data);
                }
                else
                {
                    foreach (var segment in data)
                    {
                        _output.Write(segment.Span);
                    }
                }
            }

            input.AdvanceTo(reader.Position, buffer.End);
            _activity.Value = Environment.TickCount64;
            if (status == ChunkedDecodeStatus.Completed)
            {
                if (chunkedToClient)
                {
                    ChunkedEncoder.WriteLastChunk(_output, ResponseChunks.TrailerBytes);
                }

                var done = await _output.FlushAsync().ConfigureAwait(false);
                return (!done.IsCompleted, bytes);
            }

            if (status == ChunkedDecodeStatus.Invalid || result.IsCompleted || result.IsCanceled)
            {
                await _output.FlushAsync().ConfigureAwait(false);
                return (false, bytes);
            }

            var flush = await _output.FlushAsync().ConfigureAwait(false);
            if (flush.IsCompleted)
            {
                return (false, bytes);
            }
        }
    }

    /// <summary>A body that ends when the upstream closes: relayed as chunks (HTTP/1.1 client) or raw.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<(bool Complete, long Bytes)> RelayUntilCloseAsync(PipeReader input, bool chunkedToClient)
    {
        long bytes = 0;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
            {
                return (false, bytes);
            }

            var buffer = result.Buffer;
            if (!buffer.IsEmpty)
            {
                bytes += buffer.Length;
                if (chunkedToClient)
                {
                    ChunkedEncoder.WriteChunk(_output, buffer);
                }
                else
                {
                    foreach (var segment in buffer)
                    {
                        _output.Write(segment.Span);
                    }
                }

                _activity.Value = Environment.TickCount64;
            }

            input.AdvanceTo(buffer.End);
            if (result.IsCompleted)
            {
                if (chunkedToClient)
                {
                    ChunkedEncoder.WriteLastChunk(_output);
                }

                await _output.FlushAsync().ConfigureAwait(false);
                return (true, bytes);
            }

            if (result.IsCanceled || (await _output.FlushAsync().ConfigureAwait(false)).IsCompleted)
            {
                return (false, bytes);
            }
        }
    }

    /// <summary>Copies both ways until both sides have finished; returns bytes sent to the client.</summary>
    private async Task<long> TunnelAsync(UpstreamConnection upstream)
    {
        var toUpstream = PipeCopy.CopyToEndAsync(_input, upstream.Output, _activity);
        var toClient = PipeCopy.CopyToEndAsync(upstream.Input, _output, _activity);
        await Task.WhenAll(toUpstream, toClient).ConfigureAwait(false);
        await Transport.SendDrain.CompleteAndWaitAsync(upstream.Socket, Transport.Listener.SendDrainTimeout).ConfigureAwait(false);
        upstream.Close();
        return await toClient.ConfigureAwait(false);
    }
}
