namespace Proxy.Forwarding;

/// <summary>How reading a message head ended.</summary>
public enum HeadReadResult : byte
{
    /// <summary>A complete, valid head was parsed and consumed.</summary>
    Parsed,

    /// <summary>The peer closed before sending any byte of a head (a clean end between messages).</summary>
    Closed,

    /// <summary>The peer closed or reset in the middle of a head.</summary>
    Truncated,

    /// <summary>The head broke the protocol; the parse error says how.</summary>
    Invalid,

    /// <summary>A timeout fired while waiting.</summary>
    TimedOut,
}
