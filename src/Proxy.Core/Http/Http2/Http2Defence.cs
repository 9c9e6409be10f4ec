namespace Proxy.Http.Http2;

/// <summary>The abuse defences of <see cref="Http2FloodGuard"/>; each ends the connection with GOAWAY when it trips.</summary>
public enum Http2Defence
{
    /// <summary>CVE-2023-44487: many streams opened and reset by the client, few completed.</summary>
    RapidReset,

    /// <summary>A field block split into too many CONTINUATION frames, or larger than the block limit (CVE-2024-27316 class).</summary>
    ContinuationFlood,

    /// <summary>Decoded header lists over the limit again and again (HPACK bomb).</summary>
    HeaderListTooLarge,

    /// <summary>SETTINGS frames faster than the limit (each costs an ACK).</summary>
    SettingsFlood,

    /// <summary>PING frames faster than the limit (each costs an ACK).</summary>
    PingFlood,

    /// <summary>Consecutive DATA, HEADERS or CONTINUATION frames without payload or END_STREAM.</summary>
    EmptyFrameFlood,

    /// <summary>WINDOW_UPDATE frames far beyond what the data this side sent can justify.</summary>
    WindowUpdateFlood,

    /// <summary>Streams opened past SETTINGS_MAX_CONCURRENT_STREAMS again and again (each refused).</summary>
    StreamFlood,

    /// <summary>A WINDOW_UPDATE that overflowed a window past 2^31-1 (FLOW_CONTROL_ERROR).</summary>
    WindowOverflow,
}

/// <summary>Names of <see cref="Http2Defence"/> values, for metric labels and GOAWAY debug data.</summary>
public static class Http2Defences
{
    /// <summary>Number of defences.</summary>
    public const int Count = 9;

    /// <summary>The snake_case label of a defence.</summary>
    public static string Label(this Http2Defence defence) => defence switch
    {
        Http2Defence.RapidReset => "rapid_reset",
        Http2Defence.ContinuationFlood => "continuation_flood",
        Http2Defence.HeaderListTooLarge => "header_list_too_large",
        Http2Defence.SettingsFlood => "settings_flood",
        Http2Defence.PingFlood => "ping_flood",
        Http2Defence.EmptyFrameFlood => "empty_frame_flood",
        Http2Defence.WindowUpdateFlood => "window_update_flood",
        Http2Defence.StreamFlood => "stream_flood",
        _ => "window_overflow",
    };

    /// <summary>The GOAWAY code a tripped defence ends the connection with (RFC 9113 7).</summary>
    public static Http2ErrorCode ErrorCode(this Http2Defence defence) =>
        defence == Http2Defence.WindowOverflow ? Http2ErrorCode.FlowControlError : Http2ErrorCode.EnhanceYourCalm;
}
