using System.Net;
using System.Net.Http;
using System.Net.Sockets;

namespace Proxy.LoadTests.Client;

/// <summary>
/// HTTP/2 with prior knowledge (h2c) through one shared HttpClient, so many streams multiplex over a
/// few connections as real h2 clients do. HttpClient is used here (not on the HTTP/1.1 hot path)
/// because an h2 client needs HPACK and flow control the raw client does not have.
/// </summary>
public sealed class Http2ConnectionFactory : ILoadConnectionFactory, IDisposable
{
    private readonly HttpClient _client;
    private readonly Uri _url;

    /// <summary>A factory for GET <paramref name="url"/> over h2c.</summary>
    public Http2ConnectionFactory(Uri url)
    {
        _url = url;
        _client = new HttpClient(new SocketsHttpHandler { EnableMultipleHttp2Connections = true, UseProxy = false })
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        Description = $"h2c GET {url}";
    }

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public ILoadConnection Create() => new Stream(this);

    /// <inheritdoc />
    public void Dispose() => _client.Dispose();

    /// <summary>One in-flight slot: a request stream on the shared client.</summary>
    private sealed class Stream(Http2ConnectionFactory owner) : ILoadConnection
    {
        public async ValueTask<RequestResult> SendAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                using var response = await owner._client.GetAsync(owner._url, HttpCompletionOption.ResponseContentRead, cts.Token).ConfigureAwait(false);
                return RequestResult.FromStatus((int)response.StatusCode);
            }
            catch (OperationCanceledException)
            {
                return new RequestResult(RequestOutcome.Timeout, 0, Sent: true);
            }
            catch (HttpRequestException e)
            {
                var outcome = e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused }
                    ? RequestOutcome.ConnectFailed
                    : e.HttpRequestError == HttpRequestError.InvalidResponse ? RequestOutcome.ProtocolError : RequestOutcome.ConnectionReset;
                return new RequestResult(outcome, 0, Sent: outcome != RequestOutcome.ConnectFailed);
            }
        }

        public void Dispose()
        {
            // The shared client owns the connections.
        }
    }
}
