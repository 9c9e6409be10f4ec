namespace Proxy.Routing;

/// <summary>The four forms of a virtual host domain, in Envoy's order of precedence.</summary>
public enum DomainKind
{
    /// <summary>A whole host name ("api.example.com").</summary>
    Exact,

    /// <summary>A leading wildcard ("*.example.com", "*-api.example.com"); the longest suffix wins.</summary>
    Suffix,

    /// <summary>A trailing wildcard ("api.*", "api-*"); the longest prefix wins.</summary>
    Prefix,

    /// <summary>"*": every host; chosen only when no other domain matches.</summary>
    Any,
}
