using System.Net;
using System.Text;

namespace Proxy.LoadTests.Client;

/// <summary>Creates <see cref="Http1Connection"/>s that all send the same preformatted GET.</summary>
public sealed class Http1ConnectionFactory : ILoadConnectionFactory
{
    private readonly EndPoint _endPoint;
    private readonly byte[] _request;

    /// <summary>A factory for GET <paramref name="url"/> (an http:// URL with a literal IP host).</summary>
    public Http1ConnectionFactory(Uri url)
    {
        _endPoint = TargetUrl.ToEndPoint(url);
        _request = BuildGet(url);
        Description = $"http/1.1 GET {url}";
    }

    /// <inheritdoc />
    public string Description { get; }

    /// <summary>The request bytes, preformatted once.</summary>
    public ReadOnlyMemory<byte> Request => _request;

    /// <summary>The target address.</summary>
    public EndPoint EndPoint => _endPoint;

    /// <inheritdoc />
    public ILoadConnection Create() => new Http1Connection(_endPoint, _request);

    /// <summary>Creates a connection with its concrete type (for callers that connect ahead of time).</summary>
    public Http1Connection CreateHttp1() => new(_endPoint, _request);

    /// <summary>A keep-alive GET for the URL's path and query (RFC 9112 section 3).</summary>
    public static byte[] BuildGet(Uri url) =>
        Encoding.ASCII.GetBytes($"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nUser-Agent: proxy-loadtests\r\n\r\n");
}
