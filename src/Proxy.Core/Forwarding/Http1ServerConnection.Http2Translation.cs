using System.Buffers.Text;
using System.Buffers;
using System.IO.Pipelines;
using Proxy.Async;
using Proxy.Http.Http1;
using Proxy.Http.Http2;
using Proxy.Http;
using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Runtime;
using Proxy.Transport;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    /// <summary>
    /// The request as HTTP/2 fields: pseudo-headers from the request line and Host, the fields less hop-by-hop ones
    /// (names lowercased), the proxy's fields, the filters' additions.
    /// </summary>
    private void BuildHttp2Request(Http2HeaderList headers, bool hasBody, ReadOnlySpan<byte> scheme, Upstream.Endpoint? endpoint = null)
    {
        var rewrite = _exchange.UpstreamTarget;
        var removed = _exchange.RequestFieldsRemoved;
        bool replaceTrace = RequestTrace.PropagatesOwnSpan(_telemetry); // else the client's trace context crosses untouched
        headers.Reset();
        headers.Add(":method"u8, _request.MethodBytes);
        headers.Add(":scheme"u8, scheme);
        // An HTTP/1.0 request may come without Host and with an origin-form target: it gets the endpoint's authority,
        // as on an HTTP/1.1 upstream (RequiredHost), rather than an empty :authority, which HTTP/2 forbids (8.3.1).
        ReadOnlySpan<byte> authority = !_request.Host.IsEmpty ? _request.Host : !_request.Authority.IsEmpty ? _request.Authority : RequiredHost(endpoint);
        headers.Add(":authority"u8, rewrite.HostOr(authority, endpoint));
        headers.Add(":path"u8, rewrite.TargetOr(_request.PathAndQuery.IsEmpty ? "/"u8 : _request.PathAndQuery));
        ReadOnlySpan<Http1HeaderField> fields = _request.Fields;
        for (int i = 0; i < fields.Length; i++)
        {
            Http1HeaderField field = fields[i];
            if (field.IsHopByHop || field.Kind is KnownHeader.Host or KnownHeader.TransferEncoding ||
                (field.Kind == KnownHeader.ContentLength && (!hasBody || _request.IsChunked)) ||
                field.Kind is KnownHeader.XForwardedFor or KnownHeader.XForwardedProto ||
                (field.Kind is KnownHeader.TraceParent or KnownHeader.B3 && replaceTrace) ||
                (field.Kind == KnownHeader.XForwardedHost && !_request.Host.IsEmpty))
            {
                continue; // replaced below: the upstream sees the proxy's span, not the client's
            }

            if (removed is not null && removed.Contains(_request.GetName(i)))
            {
                continue; // the route removes or replaces it
            }

            headers.AddLowercase(_request.GetName(i), _request.GetValue(i));
        }

        // As the HTTP/1.1 head writer does: the whole X-Forwarded-For chain, X-Forwarded-Host from Host, replacing the client's.
        Http2ForwardedFields.Add(headers, _request, _clientAddressText, ForwardedScheme.OfDownstream(_downstreamTls), _request.Host);
        if (replaceTrace)
        {
            Span<byte> trace = stackalloc byte[RequestTrace.B3Length];
            headers.Add("traceparent"u8, trace[.._trace.FormatTraceParent(trace)]);
            if (_trace.FromB3)
            {
                headers.Add("b3"u8, trace[.._trace.FormatB3(trace)]);
            }
        }

        if (!_request.Contains(KnownHeader.XRequestId))
        {
            headers.Add("x-request-id"u8, GeneratedRequestId);
        }

        _exchange.RequestHeadersToAdd.AddTo(headers);
    }

    /// <summary>The HTTP/2 response as an HTTP/1.1 head, with the route's changes to its fields (<paramref name="endpoint"/> answered).</summary>
    private void WriteHttp1Response(Http2HeaderList response, int status, bool chunked, bool keepAlive, Upstream.Endpoint endpoint)
    {
        PipeWriter output = _output;
        WriteStatusLine(output, status);
        var lookup = response;
        var removed = _exchange.PrepareResponse(ref lookup, endpoint) ? _exchange.ResponseChanges!.Removed : null;
        for (int i = 0; i < response.Count; i++)
        {
            if (removed is not null && removed.Contains(response.GetName(i)))
            {
                continue;
            }

            output.Write(response.GetName(i));
            output.Write(": "u8);
            output.Write(response.GetValue(i));
            output.Write("\r\n"u8);
        }

        if (removed is not null)
        {
            output.Write(_exchange.ResponseHeadersToAdd.Http1Lines);
        }

        if (chunked)
        {
            output.Write("transfer-encoding: chunked\r\n"u8);
        }

        output.Write(keepAlive ? "\r\n"u8 : "connection: close\r\n\r\n"u8);
    }

    private static void WriteStatusLine(PipeWriter output, int status)
    {
        output.Write("HTTP/1.1 "u8);
        Span<byte> digits = stackalloc byte[3];
        Utf8Formatter.TryFormat(status, digits, out _);
        output.Write(digits);
        output.Write(" "u8);
        output.Write(ReasonPhrases.Get(status));
        output.Write("\r\n"u8);
    }
}
