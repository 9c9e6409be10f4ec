using Proxy.Configuration;

namespace Proxy.Xds;

/// <summary>
/// The server's listeners for one candidate state: those that serve (bound), and those warming for their routes
/// (not bound yet, but their names and addresses are held: a clash with the file's is refused when they arrive,
/// not when their routes do).
/// </summary>
public sealed record XdsListenerSet(IReadOnlyList<ListenerConfig> Serving, IReadOnlyList<ListenerConfig> Warming)
{
    public static XdsListenerSet Empty { get; } = new([], []);

    /// <summary>Serving and warming, for the name and address checks.</summary>
    public IReadOnlyList<ListenerConfig> All => Warming.Count == 0 ? Serving : [.. Serving, .. Warming];
}
