namespace Proxy.Configuration;

/// <summary>Which subject alternative names of a certificate a <see cref="SubjectAltNameMatchConfig"/> looks at (RFC 5280, 4.2.1.6).</summary>
public enum SubjectAltNameType
{
    /// <summary>Every DNS, URI, email and IP address name.</summary>
    Any,

    /// <summary>dNSName.</summary>
    Dns,

    /// <summary>uniformResourceIdentifier (a SPIFFE ID is one).</summary>
    Uri,

    /// <summary>rfc822Name.</summary>
    Email,

    /// <summary>iPAddress, compared in its text form (<c>10.0.0.1</c>, <c>2001:db8::1</c>).</summary>
    IpAddress,
}
