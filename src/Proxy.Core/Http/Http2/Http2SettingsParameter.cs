namespace Proxy.Http.Http2;

/// <summary>SETTINGS parameter identifiers (RFC 9113 6.5.2). Unknown identifiers are ignored.</summary>
public enum Http2SettingsParameter : ushort
{
    /// <summary>SETTINGS_HEADER_TABLE_SIZE: the HPACK dynamic table size the sender's decoder allows.</summary>
    HeaderTableSize = 0x1,

    /// <summary>SETTINGS_ENABLE_PUSH: 0 or 1.</summary>
    EnablePush = 0x2,

    /// <summary>SETTINGS_MAX_CONCURRENT_STREAMS: streams the sender permits the receiver to open.</summary>
    MaxConcurrentStreams = 0x3,

    /// <summary>SETTINGS_INITIAL_WINDOW_SIZE: initial stream flow-control window, at most 2^31-1.</summary>
    InitialWindowSize = 0x4,

    /// <summary>SETTINGS_MAX_FRAME_SIZE: largest frame payload the sender accepts, 16384..16777215.</summary>
    MaxFrameSize = 0x5,

    /// <summary>SETTINGS_MAX_HEADER_LIST_SIZE: advisory limit on the decoded header list.</summary>
    MaxHeaderListSize = 0x6,
}
