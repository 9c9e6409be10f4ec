namespace Proxy.Interception;

/// <summary>Which iptables backend writes the rules: the nftables-based one or the legacy x_tables one.</summary>
public enum IptablesMode
{
    /// <summary><c>iptables-nft-restore</c> (the default on current distributions).</summary>
    Nft,

    /// <summary><c>iptables-legacy-restore</c>.</summary>
    Legacy,
}
