namespace Proxy.Http.Http2;

/// <summary>Frame types of RFC 9113 section 6. Other values are extension frames, which are ignored (5.5).</summary>
public enum Http2FrameType : byte
{
    /// <summary>Stream data (6.1).</summary>
    Data = 0x0,

    /// <summary>Opens a stream and carries a field block fragment (6.2).</summary>
    Headers = 0x1,

    /// <summary>Deprecated priority signal (6.3); parsed and ignored.</summary>
    Priority = 0x2,

    /// <summary>Terminates a stream (6.4).</summary>
    RstStream = 0x3,

    /// <summary>Connection parameters (6.5).</summary>
    Settings = 0x4,

    /// <summary>Server push announcement (6.6).</summary>
    PushPromise = 0x5,

    /// <summary>Round-trip measurement and liveness (6.7).</summary>
    Ping = 0x6,

    /// <summary>Connection shutdown (6.8).</summary>
    GoAway = 0x7,

    /// <summary>Flow-control credit (6.9).</summary>
    WindowUpdate = 0x8,

    /// <summary>Continues a field block (6.10).</summary>
    Continuation = 0x9,
}
