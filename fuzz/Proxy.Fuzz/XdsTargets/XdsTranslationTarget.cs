using Envoy.Config.Cluster.V3;
using Envoy.Config.Endpoint.V3;
using Envoy.Config.Listener.V3;
using Envoy.Config.Route.V3;
using Envoy.Extensions.TransportSockets.Tls.V3;
using Google.Protobuf;
using Proxy.Configuration;
using Proxy.Fuzz.Targets;
using Proxy.Runtime;
using Proxy.Xds.Translation;

namespace Proxy.Fuzz.XdsTargets;

/// <summary>
/// xDS resource translation (src/Proxy.Xds/Translation): what a management server sends, decoded from protobuf as the
/// ADS client decodes it (<see cref="XdsDecoder"/>), fed to the translator of its type. The first input byte picks the type (see
/// <see cref="XdsResourceKind"/>); the rest is the resource's binary encoding.
/// </summary>
/// <remarks>
/// A translator documents one exception for a resource it refuses, <see cref="XdsRejectedException"/>, whose message
/// becomes the NACK's <c>error_detail</c>: it must be a sentence, never an exception's type name. Anything else
/// escaping would end the ADS stream instead of NACKing. An accepted resource must translate the same every time
/// (nothing depends on state left by an earlier one), its endpoints must be connectable (a port in 1-65535, a
/// weight of at least 1), and its routes must get a verdict from the route compiler's check, which the runtime
/// relies on to refuse bad ones before they reach a snapshot.
/// </remarks>
public static class XdsTranslationTarget
{
    public static FuzzTarget Target { get; } = new("xds-translation", "xDS Cluster, ClusterLoadAssignment, Listener, RouteConfiguration and Secret translation: NACK sentences, determinism, sound output", Run);

    public static void Run(ReadOnlySpan<byte> input)
    {
        XdsResourceKind kind = (XdsResourceKind)(FuzzInput.TakeControl(ref input) % 5);
        byte[] bytes = input.ToArray();
        object? first = Translate(kind, bytes, out string? rejection);
        object? second = Translate(kind, bytes, out string? again);
        FuzzFinding.Check(rejection == again, $"the same {kind} was translated two ways: '{rejection}' then '{again}'");
        if (rejection is not null)
        {
            CheckSentence(rejection);
            return;
        }

        switch (first)
        {
            case TranslatedCluster cluster:
                FuzzFinding.Check(cluster.Config.Equals(((TranslatedCluster)second!).Config), "the same Cluster translated to two configurations");
                CheckEndpoints(cluster.Config.Endpoints);
                break;
            case IReadOnlyList<EndpointConfig> endpoints:
                FuzzFinding.Check(endpoints.SequenceEqual((IReadOnlyList<EndpointConfig>)second!), "the same ClusterLoadAssignment translated to two endpoint lists");
                CheckEndpoints(endpoints);
                break;
            case TranslatedListener listener:
                var secondListener = (TranslatedListener)second!;
                FuzzFinding.Check(listener.Config.Equals(secondListener.Config) && listener.Chains.Count == secondListener.Chains.Count, "the same Listener translated to two configurations");
                foreach (TranslatedChain chain in listener.Chains)
                {
                    if (chain.InlineRoutes is { } inline)
                    {
                        _ = SnapshotCompiler.CheckRoutes(inline.VirtualHosts);
                    }
                }

                break;
            case TranslatedRouteConfiguration routes:
                FuzzFinding.Check(routes.VirtualHosts.SequenceEqual(((TranslatedRouteConfiguration)second!).VirtualHosts), "the same RouteConfiguration translated to two sets of virtual hosts");
                _ = SnapshotCompiler.CheckRoutes(routes.VirtualHosts);
                break;
        }
    }

    /// <summary>
    /// The translation of one resource, decoded as the ADS client decodes a response's resources; null with the
    /// refusal's sentence in <paramref name="rejection"/> when it is refused (undecodable bytes included).
    /// </summary>
    public static object? Translate(XdsResourceKind kind, byte[] bytes, out string? rejection)
    {
        rejection = null;
        ByteString data = ByteString.CopyFrom(bytes);
        const string What = "resource 0 of the response";
        try
        {
            return kind switch
            {
                XdsResourceKind.Cluster => ClusterTranslator.Translate(XdsDecoder.Decode(Cluster.Parser, data, What)),
                XdsResourceKind.ClusterLoadAssignment => LoadAssignmentTranslator.Translate(XdsDecoder.Decode(ClusterLoadAssignment.Parser, data, What), "fuzz"),
                XdsResourceKind.Listener => ListenerTranslator.Translate(XdsDecoder.Decode(Listener.Parser, data, What)),
                XdsResourceKind.RouteConfiguration => RouteConfigurationTranslator.Translate(XdsDecoder.Decode(RouteConfiguration.Parser, data, What)),
                _ => SecretTranslator.Translate(XdsDecoder.Decode(Secret.Parser, data, What)),
            };
        }
        catch (XdsRejectedException rejected)
        {
            rejection = rejected.Message;
            return null;
        }
    }

    /// <summary>A NACK's error_detail is read by people: a sentence, not an exception's name or a stack.</summary>
    private static void CheckSentence(string message)
    {
        FuzzFinding.Check(!string.IsNullOrWhiteSpace(message), "a rejection without a reason");
        FuzzFinding.Check(!message.Contains("Exception", StringComparison.Ordinal) && !message.Contains("System.", StringComparison.Ordinal) && !message.Contains("   at ", StringComparison.Ordinal),
            "a rejection that reads like an exception, not a sentence: " + message);
    }

    private static void CheckEndpoints(IReadOnlyList<EndpointConfig> endpoints)
    {
        foreach (EndpointConfig endpoint in endpoints)
        {
            FuzzFinding.Check(endpoint.Address.Port is > 0 and <= 65535, $"an endpoint with port {endpoint.Address.Port} was accepted");
            FuzzFinding.Check(endpoint.Weight >= 1, $"an endpoint with weight {endpoint.Weight} was accepted");
        }
    }
}
