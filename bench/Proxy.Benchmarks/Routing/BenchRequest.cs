using System.Text;
using Proxy.Routing;

namespace Proxy.Benchmarks.Routing;

/// <summary>
/// A request view shaped like a parsed HTTP/1 head: spans over pre-encoded bytes and a linear
/// header scan with case-insensitive names, as the real head type does. A path with a '?' is split into path and query.
/// </summary>
public readonly struct BenchRequest : IRouteRequest
{
    private readonly byte[] _host;
    private readonly byte[] _path;
    private readonly byte[] _query;
    private readonly byte[] _method;
    private readonly byte[][] _names;
    private readonly byte[][] _values;

    public BenchRequest(string host, string path, string method, params (string Name, string Value)[] headers)
    {
        _host = Encoding.ASCII.GetBytes(host);
        int question = path.IndexOf('?');
        _path = Encoding.ASCII.GetBytes(question < 0 ? path : path[..question]);
        _query = question < 0 ? [] : Encoding.ASCII.GetBytes(path[(question + 1)..]);
        _method = Encoding.ASCII.GetBytes(method);
        _names = new byte[headers.Length][];
        _values = new byte[headers.Length][];
        for (int i = 0; i < headers.Length; i++)
        {
            _names[i] = Encoding.ASCII.GetBytes(headers[i].Name);
            _values[i] = Encoding.ASCII.GetBytes(headers[i].Value);
        }
    }

    public ReadOnlySpan<byte> Host => _host;

    public ReadOnlySpan<byte> Path => _path;

    public ReadOnlySpan<byte> Query => _query;

    public ReadOnlySpan<byte> Method => _method;

    public bool TryGetHeader(ReadOnlySpan<byte> lowerName, out ReadOnlySpan<byte> value)
    {
        byte[][] names = _names;
        for (int i = 0; i < names.Length; i++)
        {
            if (Ascii.EqualsIgnoreCase(names[i], lowerName))
            {
                value = _values[i];
                return true;
            }
        }

        value = default;
        return false;
    }
}
