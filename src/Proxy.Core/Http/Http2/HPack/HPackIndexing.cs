namespace Proxy.Http.Http2.HPack;

/// <summary>How the encoder may index a literal field (RFC 7541 6.2).</summary>
public enum HPackIndexing
{
    /// <summary>Literal with incremental indexing (6.2.1): added to the dynamic table when it fits.</summary>
    Incremental,

    /// <summary>Literal without indexing (6.2.2): not added, but intermediaries may index it.</summary>
    WithoutIndexing,

    /// <summary>Literal never indexed (6.2.3): for sensitive values; never added, by us or by any intermediary.</summary>
    NeverIndexed,
}
