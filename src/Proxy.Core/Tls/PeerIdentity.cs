namespace Proxy.Tls;

/// <summary>
/// Who the other side of a connection is: an authenticated SPIFFE ID, or "no identity" with the
/// reason. Identity is not TLS: this value is what authorization and metrics look at, whatever
/// carried it.
/// </summary>
public sealed class PeerIdentity
{
    private static readonly PeerIdentity[] NoIdentity = CreateNoIdentity();

    private PeerIdentity(SpiffeId? id, NoTlsReason reason)
    {
        Id = id;
        Reason = reason;
    }

    /// <summary>The authenticated SPIFFE ID, or null (see <see cref="Reason"/>).</summary>
    public SpiffeId? Id { get; }

    /// <summary>Why there is no identity; meaningless when <see cref="IsAuthenticated"/>.</summary>
    public NoTlsReason Reason { get; }

    /// <summary>True when the peer proved a SPIFFE ID with a certificate chaining to the trust bundle.</summary>
    public bool IsAuthenticated => Id is not null;

    /// <summary>The value for the connection_security_policy metrics label.</summary>
    public string SecurityPolicy => IsAuthenticated ? "mutual_tls" : "none";

    /// <summary>The principal metrics label: the SPIFFE ID or "unknown".</summary>
    public string Principal => Id?.Value ?? "unknown";

    /// <summary>An authenticated peer.</summary>
    public static PeerIdentity Authenticated(SpiffeId id) => new(id, default);

    /// <summary>A peer without identity (shared instances, no allocation).</summary>
    public static PeerIdentity None(NoTlsReason reason) => NoIdentity[(int)reason];

    public override string ToString() => Id?.Value ?? $"no-identity ({Reason})";

    private static PeerIdentity[] CreateNoIdentity()
    {
        var values = Enum.GetValues<NoTlsReason>();
        var all = new PeerIdentity[values.Length];
        foreach (var reason in values)
        {
            all[(int)reason] = new PeerIdentity(null, reason);
        }

        return all;
    }
}
