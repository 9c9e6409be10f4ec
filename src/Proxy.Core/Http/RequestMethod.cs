namespace Proxy.Http;

/// <summary>
/// The request methods of RFC 9110 section 9 plus PATCH (RFC 5789); anything else is
/// <see cref="Other"/> and keeps its original bytes in the parsed head.
/// </summary>
public enum RequestMethod : byte
{
    /// <summary>An extension method; its name is only available as bytes.</summary>
    Other = 0,
    Get,
    Head,
    Post,
    Put,
    Delete,
    Connect,
    Options,
    Trace,
    Patch,
}
