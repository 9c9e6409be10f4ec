namespace Proxy.LoadTests.Client;

/// <summary>
/// One client connection the load runners drive: one request at a time, reconnecting by itself
/// after an error. Implementations never throw for network failures; they classify them.
/// </summary>
public interface ILoadConnection : IDisposable
{
    /// <summary>Sends the request and reads the whole response, giving up after <paramref name="timeout"/>.</summary>
    ValueTask<RequestResult> SendAsync(TimeSpan timeout);
}
