namespace Proxy.Http.Http1;

/// <summary>
/// Walks the elements of a comma-separated field value (RFC 9110 5.6.1): trims whitespace
/// around each element and skips empty ones, as recipients must.
/// </summary>
internal ref struct HttpListReader
{
    private ReadOnlySpan<byte> _rest;

    internal HttpListReader(ReadOnlySpan<byte> value) => _rest = value;

    internal bool TryNext(out ReadOnlySpan<byte> element)
    {
        while (!_rest.IsEmpty)
        {
            int comma = _rest.IndexOf((byte)',');
            ReadOnlySpan<byte> raw;
            if (comma < 0)
            {
                raw = _rest;
                _rest = default;
            }
            else
            {
                raw = _rest[..comma];
                _rest = _rest[(comma + 1)..];
            }

            element = HttpCharacters.TrimWhitespace(raw);
            if (!element.IsEmpty) return true;
        }

        element = default;
        return false;
    }
}
