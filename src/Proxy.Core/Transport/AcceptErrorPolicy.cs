using System.Net.Sockets;

namespace Proxy.Transport;

/// <summary>
/// Which accept failures the accept loop survives. Running out of file descriptors (EMFILE/ENFILE)
/// or buffers, or a connection reset before accept returned, are conditions of the moment: the loop
/// counts them, backs off and keeps accepting. Anything else on a socket we still own is also
/// retried, so one bad accept never takes a listener down.
/// </summary>
public static class AcceptErrorPolicy
{
    /// <summary>First pause after an accept error.</summary>
    public static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(5);

    /// <summary>Longest pause between retries while errors persist.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    /// <summary>True for errors where backing off helps (resource exhaustion).</summary>
    public static bool NeedsBackoff(SocketError error) => error is
        SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable or SocketError.SystemNotReady;

    /// <summary>The next back-off delay, doubling up to <see cref="MaxBackoff"/>.</summary>
    public static TimeSpan Next(TimeSpan current) =>
        current >= MaxBackoff / 2 ? MaxBackoff : current * 2;
}
