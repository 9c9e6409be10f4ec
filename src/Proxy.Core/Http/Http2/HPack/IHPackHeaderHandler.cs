namespace Proxy.Http.Http2.HPack;

/// <summary>
/// Receives the fields of a decoded header block. Implement it on a struct (or ref struct) so that
/// <see cref="HPackDecoder.Decode{THandler}"/> is specialised for it and the calls are direct.
/// </summary>
public interface IHPackHeaderHandler
{
    /// <summary>
    /// One decoded field. The spans are only valid during the call. <paramref name="neverIndexed"/> is true for
    /// the "never indexed" representation (RFC 7541 6.2.3), which an intermediary must keep when re-encoding.
    /// </summary>
    void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed);
}
