using Proxy.Upstream;

namespace Proxy.Rewrites;

/// <summary>
/// The request target and host one request is forwarded with, when its route rewrites them: kept in a buffer the
/// reused exchange owns, so a rewrite allocates nothing per request (a regex substitution with groups apart). The
/// upstream writers ask it for the target and host, and get the client's own when nothing was rewritten.
/// </summary>
public sealed class UpstreamTarget
{
    private byte[] _target = [];
    private int _length;
    private bool _pathRewritten;
    private RequestRewrite? _rewrite;

    /// <summary>True when the request carries something other than the client's target or host.</summary>
    public bool IsRewritten => _pathRewritten || _rewrite is { RewritesHost: true };

    /// <summary>Applies a route's rewrite to a request with <paramref name="path"/> (no query) and <paramref name="target"/> (path and query).</summary>
    public void Apply(RequestRewrite rewrite, ReadOnlySpan<byte> path, ReadOnlySpan<byte> target)
    {
        _rewrite = rewrite;
        if (!rewrite.RewritesPath)
        {
            return;
        }

        var query = target.IndexOf((byte)'?') is var at and >= 0 ? target[at..] : default;
        _length = rewrite.WritePath(path, ref _target);
        if (_length == 0 || _target[0] != (byte)'/')
        {
            // A rewrite that empties the path or loses its slash still sends an origin-form target (RFC 9112 3.2.1).
            Insert('/');
        }

        if (_target.Length < _length + query.Length)
        {
            Array.Resize(ref _target, _length + query.Length);
        }

        query.CopyTo(_target.AsSpan(_length));
        _length += query.Length;
        _pathRewritten = true;
    }

    /// <summary>The target to send: the rewritten path and the client's query, or <paramref name="original"/>.</summary>
    public ReadOnlySpan<byte> TargetOr(ReadOnlySpan<byte> original) => _pathRewritten ? _target.AsSpan(0, _length) : original;

    /// <summary>
    /// The host to send: the route's literal, the authority of <paramref name="endpoint"/> (auto rewrite; the client's
    /// host when no endpoint is known, as for a mirrored copy), or <paramref name="original"/>.
    /// </summary>
    public ReadOnlySpan<byte> HostOr(ReadOnlySpan<byte> original, Endpoint? endpoint) => _rewrite switch
    {
        { HostLiteral: { } literal } => literal,
        { AutoHost: true } when endpoint is not null => endpoint.AuthorityBytes,
        _ => original,
    };

    /// <summary>Forgets the request's rewrite (the buffer is kept).</summary>
    public void Clear()
    {
        _rewrite = null;
        _pathRewritten = false;
        _length = 0;
    }

    private void Insert(char first)
    {
        if (_target.Length < _length + 1)
        {
            Array.Resize(ref _target, Math.Max(256, _length + 1));
        }

        _target.AsSpan(0, _length).CopyTo(_target.AsSpan(1));
        _target[0] = (byte)first;
        _length++;
    }
}
