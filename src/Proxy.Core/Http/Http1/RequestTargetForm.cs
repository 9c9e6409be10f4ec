namespace Proxy.Http.Http1;

/// <summary>The four forms of request-target (RFC 9112 section 3.2).</summary>
public enum RequestTargetForm : byte
{
    /// <summary>"/path?query", the usual form sent to an origin server.</summary>
    Origin = 0,
    /// <summary>"http://host/path", sent to forward proxies.</summary>
    Absolute,
    /// <summary>"host:port", only with CONNECT.</summary>
    Authority,
    /// <summary>"*", only with OPTIONS.</summary>
    Asterisk,
}
