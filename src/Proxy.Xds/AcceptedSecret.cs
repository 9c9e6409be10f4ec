using Envoy.Extensions.TransportSockets.Tls.V3;
using Proxy.Xds.Translation;

namespace Proxy.Xds;

/// <summary>One accepted SDS Secret: the resource as sent, its PEM, and the version and time it arrived with.</summary>
public sealed record AcceptedSecret(Secret Resource, TranslatedSecret Translated, string Version, DateTimeOffset LastUpdated);
