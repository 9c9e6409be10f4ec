namespace Proxy.Inbound;

/// <summary>The outcome of inbound authorization.</summary>
public enum AuthorizationDecision
{
    /// <summary>A rule allowed it, or there are no rules.</summary>
    Allow,

    /// <summary>A deny rule matched, or rules exist and none allowed it.</summary>
    Deny,
}
