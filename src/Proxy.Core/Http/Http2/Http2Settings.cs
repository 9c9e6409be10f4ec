using System.Buffers;
using System.Buffers.Binary;

namespace Proxy.Http.Http2;

/// <summary>
/// The SETTINGS of one side of a connection (RFC 9113 6.5.2), starting at the protocol defaults. A connection
/// keeps two: its own (what it advertised) and the peer's (what it must respect when sending).
/// </summary>
public sealed class Http2Settings
{
    /// <summary>Default SETTINGS_HEADER_TABLE_SIZE.</summary>
    public const int DefaultHeaderTableSize = 4096;

    /// <summary>Default SETTINGS_INITIAL_WINDOW_SIZE, also the initial connection window (6.9.2).</summary>
    public const int DefaultInitialWindowSize = 65_535;

    /// <summary>Default and minimum SETTINGS_MAX_FRAME_SIZE.</summary>
    public const int DefaultMaxFrameSize = 16_384;

    /// <summary>Largest allowed SETTINGS_MAX_FRAME_SIZE (2^24-1).</summary>
    public const int MaxAllowedFrameSize = 16_777_215;

    /// <summary>Largest flow-control window (2^31-1).</summary>
    public const int MaxWindowSize = int.MaxValue;

    /// <summary>SETTINGS_HEADER_TABLE_SIZE.</summary>
    public int HeaderTableSize { get; set; } = DefaultHeaderTableSize;

    /// <summary>SETTINGS_ENABLE_PUSH.</summary>
    public bool EnablePush { get; set; } = true;

    /// <summary>SETTINGS_MAX_CONCURRENT_STREAMS; <see cref="int.MaxValue"/> stands for "unlimited" (the default).</summary>
    public int MaxConcurrentStreams { get; set; } = int.MaxValue;

    /// <summary>SETTINGS_INITIAL_WINDOW_SIZE.</summary>
    public int InitialWindowSize { get; set; } = DefaultInitialWindowSize;

    /// <summary>SETTINGS_MAX_FRAME_SIZE.</summary>
    public int MaxFrameSize { get; set; } = DefaultMaxFrameSize;

    /// <summary>SETTINGS_MAX_HEADER_LIST_SIZE; <see cref="int.MaxValue"/> stands for "unlimited" (the default).</summary>
    public int MaxHeaderListSize { get; set; } = int.MaxValue;

    /// <summary>
    /// Checks a value against RFC 9113 6.5.2: ENABLE_PUSH other than 0 or 1 and MAX_FRAME_SIZE outside
    /// 16384..16777215 are PROTOCOL_ERROR, INITIAL_WINDOW_SIZE above 2^31-1 is FLOW_CONTROL_ERROR. All are
    /// connection errors. Returns <see cref="Http2ErrorCode.NoError"/> when valid.
    /// </summary>
    public static Http2ErrorCode Validate(Http2SettingsParameter parameter, uint value) => parameter switch
    {
        Http2SettingsParameter.EnablePush when value > 1 => Http2ErrorCode.ProtocolError,
        Http2SettingsParameter.InitialWindowSize when value > MaxWindowSize => Http2ErrorCode.FlowControlError,
        Http2SettingsParameter.MaxFrameSize when value is < DefaultMaxFrameSize or > MaxAllowedFrameSize => Http2ErrorCode.ProtocolError,
        _ => Http2ErrorCode.NoError,
    };

    /// <summary>Validates and applies one parameter; unknown parameters are ignored (6.5.2).</summary>
    public Http2ErrorCode Set(Http2SettingsParameter parameter, uint value)
    {
        Http2ErrorCode error = Validate(parameter, value);
        if (error != Http2ErrorCode.NoError)
        {
            return error;
        }

        int clamped = value > int.MaxValue ? int.MaxValue : (int)value;
        switch (parameter)
        {
            case Http2SettingsParameter.HeaderTableSize:
                HeaderTableSize = clamped;
                break;
            case Http2SettingsParameter.EnablePush:
                EnablePush = value == 1;
                break;
            case Http2SettingsParameter.MaxConcurrentStreams:
                MaxConcurrentStreams = clamped;
                break;
            case Http2SettingsParameter.InitialWindowSize:
                InitialWindowSize = clamped;
                break;
            case Http2SettingsParameter.MaxFrameSize:
                MaxFrameSize = clamped;
                break;
            case Http2SettingsParameter.MaxHeaderListSize:
                MaxHeaderListSize = clamped;
                break;
        }

        return Http2ErrorCode.NoError;
    }

    /// <summary>
    /// Applies the parameters of a SETTINGS payload in order (6.5.3: "processed in the order in which they
    /// appear"). Returns the first error, which is a connection error.
    /// </summary>
    public Http2ErrorCode Apply(in ReadOnlySequence<byte> payload)
    {
        var reader = new SequenceReader<byte>(payload);
        Span<byte> item = stackalloc byte[Http2Setting.Size];
        while (reader.TryCopyTo(item))
        {
            reader.Advance(Http2Setting.Size);
            Http2ErrorCode error = Set(
                (Http2SettingsParameter)BinaryPrimitives.ReadUInt16BigEndian(item),
                BinaryPrimitives.ReadUInt32BigEndian(item[2..]));
            if (error != Http2ErrorCode.NoError)
            {
                return error;
            }
        }

        return reader.Remaining == 0 ? Http2ErrorCode.NoError : Http2ErrorCode.FrameSizeError;
    }

    /// <summary>
    /// Copies the parameters that differ from the protocol defaults into <paramref name="destination"/> (room for
    /// six), for the SETTINGS frame a side sends first. Returns how many were written.
    /// </summary>
    public int GetNonDefault(Span<Http2Setting> destination)
    {
        int count = 0;
        if (HeaderTableSize != DefaultHeaderTableSize)
        {
            destination[count++] = new(Http2SettingsParameter.HeaderTableSize, (uint)HeaderTableSize);
        }

        if (!EnablePush)
        {
            destination[count++] = new(Http2SettingsParameter.EnablePush, 0);
        }

        if (MaxConcurrentStreams != int.MaxValue)
        {
            destination[count++] = new(Http2SettingsParameter.MaxConcurrentStreams, (uint)MaxConcurrentStreams);
        }

        if (InitialWindowSize != DefaultInitialWindowSize)
        {
            destination[count++] = new(Http2SettingsParameter.InitialWindowSize, (uint)InitialWindowSize);
        }

        if (MaxFrameSize != DefaultMaxFrameSize)
        {
            destination[count++] = new(Http2SettingsParameter.MaxFrameSize, (uint)MaxFrameSize);
        }

        if (MaxHeaderListSize != int.MaxValue)
        {
            destination[count++] = new(Http2SettingsParameter.MaxHeaderListSize, (uint)MaxHeaderListSize);
        }

        return count;
    }
}
