namespace Proxy.Configuration;

/// <summary>The inbound listener of a sidecar: mTLS termination, authorization, then the local app.</summary>
public sealed record MeshInboundConfig
{
    /// <summary>Port the intercepted inbound traffic is redirected to (default 15006).</summary>
    public int Port { get; init; } = 15006;

    /// <summary>strict or permissive (default strict).</summary>
    public MeshInboundMode Mode { get; init; } = MeshInboundMode.Strict;

    /// <summary>Host of the local app; the original destination port is kept (default 127.0.0.1).</summary>
    public string AppAddress { get; init; } = "127.0.0.1";

    /// <summary>Rules in order; the first that matches decides. With rules but no match, the request is denied.</summary>
    public IReadOnlyList<AuthorizationRuleConfig> Authorization { get; init; } = ConfigList<AuthorizationRuleConfig>.Empty;
}
