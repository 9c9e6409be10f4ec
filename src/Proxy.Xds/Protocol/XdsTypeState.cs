namespace Proxy.Xds.Protocol;

/// <summary>
/// What the client tracks per resource type on the ADS stream (xds_protocol, "ACK/NACK and resource type instance
/// version"): the last accepted version, which survives reconnects; the nonce of the last response on the current
/// stream, which every request of that type echoes; and the names subscribed (empty for a wildcard).
/// </summary>
internal sealed class XdsTypeState(string typeUrl)
{
    public string TypeUrl { get; } = typeUrl;

    /// <summary>The version_info of the last accepted response; "" before the first.</summary>
    public string Version { get; set; } = "";

    /// <summary>The nonce of the last response of this type on the current stream; "" on a new stream.</summary>
    public string Nonce { get; set; } = "";

    /// <summary>The resource names last asked for; empty for a wildcard.</summary>
    public IReadOnlyList<string> Names { get; set; } = [];

    /// <summary>Whether a request of this type was sent on the current stream.</summary>
    public bool Requested { get; set; }
}
