namespace Proxy.Http.Http2;

/// <summary>One SETTINGS parameter as it travels on the wire (RFC 9113 6.5.1): a 16-bit identifier and a 32-bit value.</summary>
public readonly record struct Http2Setting(Http2SettingsParameter Parameter, uint Value)
{
    /// <summary>Size of one parameter on the wire.</summary>
    public const int Size = 6;
}
