namespace Proxy.LoadTests.Client;

/// <summary>The answer of an incremental parser step.</summary>
public enum ParseStatus
{
    /// <summary>The input ends before the element does; feed more bytes.</summary>
    NeedMore,

    /// <summary>The element is complete.</summary>
    Done,

    /// <summary>The bytes are not valid for this element.</summary>
    Invalid,
}
