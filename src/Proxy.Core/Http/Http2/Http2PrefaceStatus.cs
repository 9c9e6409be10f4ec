namespace Proxy.Http.Http2;

/// <summary>Outcome of checking the client connection preface.</summary>
public enum Http2PrefaceStatus
{
    /// <summary>The bytes so far match but the preface is not complete; nothing consumed.</summary>
    NeedMoreData,

    /// <summary>The preface was present and consumed.</summary>
    Valid,

    /// <summary>The bytes are not the preface (RFC 9113 3.4: a connection error of type PROTOCOL_ERROR).</summary>
    Invalid,
}
