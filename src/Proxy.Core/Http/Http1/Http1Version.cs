namespace Proxy.Http.Http1;

/// <summary>The HTTP/1 minor version of a message (RFC 9112 2.3); higher 1.x minors are treated as 1.1.</summary>
public enum Http1Version : byte
{
    Http10 = 0,
    Http11 = 1,
}
