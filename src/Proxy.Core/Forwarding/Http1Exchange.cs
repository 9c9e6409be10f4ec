using System.Buffers;
using System.Net;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http.Http1;
using Proxy.Runtime;

namespace Proxy.Forwarding;

/// <summary>
/// The exchange of an HTTP/1.1 client (<see cref="HttpExchange"/>): a view over the connection's parsed request head,
/// one object per connection reused by each of its requests (they come one at a time; pipelined ones wait).
/// </summary>
internal sealed class Http1Exchange : HttpExchange
{
    private readonly Http1ServerConnection _connection;
    private readonly Http1RequestHead _request;

    public Http1Exchange(Http1ServerConnection connection, Http1RequestHead request, IPAddress? clientAddress, bool downstreamTls)
    {
        _connection = connection;
        _request = request;
        ClientAddress = clientAddress;
        DownstreamTls = downstreamTls;
    }

    public override ReadOnlySpan<byte> Host => _request.Host.IsEmpty ? _request.Authority : _request.Host;

    public override ReadOnlySpan<byte> Path => _request.Path;

    public override ReadOnlySpan<byte> Target => _request.PathAndQuery;

    public override ReadOnlySpan<byte> Method => _request.MethodBytes;

    public override bool TryGetHeader(ReadOnlySpan<byte> lowerName, out ReadOnlySpan<byte> value) => _request.TryGetValue(lowerName, out value);

    public override bool HasBody => _hasBody;

    public override string Protocol => _request.Version == Http1Version.Http11 ? "HTTP/1.1" : "HTTP/1.0";

    public override int HeadSizeHint => _request.HeadLength;

    public override ReadOnlySpan<byte> ClientAddressText => _connection.ClientAddressText;

    public override ReadOnlySpan<byte> RequestId => _connection.RequestId;

    /// <summary>An answer closes the connection afterwards (the request has a body left unread, or no keep-alive).</summary>
    public bool CloseAfterAnswer { get; private set; }

    /// <summary>After a filter's answer: whether the connection can carry another request.</summary>
    public bool KeepAliveAfterAnswer { get; private set; }

    private bool _hasBody;

    /// <summary>Starts a request on this object, before the filter chain: its routing, body and answer rules.</summary>
    public void Begin(HttpRouting routing, long started, bool hasBody, bool closeAfterAnswer)
    {
        ClearRequest();
        Routing = routing;
        Started = started;
        _hasBody = hasBody;
        CloseAfterAnswer = closeAfterAnswer;
        KeepAliveAfterAnswer = false;
        IsGrpc = false;
    }

    /// <summary>An HTTP/1.1 client is never judged gone before the answer: its departure shows when the answer is written.</summary>
    public override bool ClientGone => false;

    public override void RecordClientGone()
    {
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
    public override async ValueTask AnswerAsync(int status, ResponseFlag flag) =>
        KeepAliveAfterAnswer = await _connection.AnswerAsync(Metrics, status, flag, Started, CloseAfterAnswer, Route?.Name, Cluster?.Name).ConfigureAwait(false);

    public override void WriteHttp1CopyHead(IBufferWriter<byte> output) => _connection.WriteCopyHead(output);

    public override void WriteHttp2CopyHeaders(Http.Http2.Http2HeaderList target, ReadOnlySpan<byte> scheme) => _connection.WriteHttp2CopyHeaders(target, scheme);
}
