using Envoy.Config.Listener.V3;
using Proxy.Xds.Translation;

namespace Proxy.Xds;

/// <summary>One accepted Listener: the resource as sent, its translation, and the version and time it arrived with.</summary>
public sealed record AcceptedListener(Listener Resource, TranslatedListener Translated, string Version, DateTimeOffset LastUpdated);
