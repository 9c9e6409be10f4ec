namespace Proxy.Configuration;

/// <summary>What an inbound authorization rule does when it matches.</summary>
public enum AuthorizationAction
{
    /// <summary>The request is allowed.</summary>
    Allow,

    /// <summary>The request is refused with 403 (or the connection closed for TCP).</summary>
    Deny,
}
