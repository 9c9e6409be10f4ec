using Envoy.Config.Listener.V3;

namespace Proxy.Xds;

/// <summary>
/// The last Listener the server sent under a name that could not be honoured: what /config_dump shows as that
/// listener's <c>error_state</c> (Envoy's UpdateFailureState) until an update of it is accepted.
/// </summary>
public sealed record RejectedListener(Listener Resource, string Version, DateTimeOffset LastUpdateAttempt, string Details);
