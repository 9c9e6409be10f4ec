using System.Text;
using Proxy.Routing;

namespace Proxy.Tests.Routing;

/// <summary>
/// A ref struct request view over test-owned bytes, proving matching works with ref struct implementations.
/// A path with a '?' is split: the part after it is the query.
/// </summary>
internal ref struct TestRequest : IRouteRequest
{
    private readonly (byte[] Name, byte[] Value)[] _headers;

    public TestRequest(string host, string path, string method = "GET", params (string Name, string Value)[] headers)
    {
        Host = Encoding.UTF8.GetBytes(host);
        int question = path.IndexOf('?');
        Path = Encoding.UTF8.GetBytes(question < 0 ? path : path[..question]);
        Query = question < 0 ? [] : Encoding.UTF8.GetBytes(path[(question + 1)..]);
        Method = Encoding.UTF8.GetBytes(method);
        _headers = new (byte[], byte[])[headers.Length];
        for (int i = 0; i < headers.Length; i++)
        {
            _headers[i] = (Encoding.ASCII.GetBytes(headers[i].Name), Encoding.UTF8.GetBytes(headers[i].Value));
        }
    }

    public ReadOnlySpan<byte> Host { get; }

    public ReadOnlySpan<byte> Path { get; }

    public ReadOnlySpan<byte> Query { get; }

    public ReadOnlySpan<byte> Method { get; }

    public int HeaderLookups { get; private set; }

    public bool TryGetHeader(ReadOnlySpan<byte> lowerName, out ReadOnlySpan<byte> value)
    {
        HeaderLookups++;
        foreach ((byte[] name, byte[] headerValue) in _headers)
        {
            if (Ascii.EqualsIgnoreCase(name, lowerName))
            {
                value = headerValue;
                return true;
            }
        }

        value = default;
        return false;
    }
}
