using Envoy.Service.Discovery.V3;
using Proxy.Xds.Translation;
using Secret = Envoy.Extensions.TransportSockets.Tls.V3.Secret;

namespace Proxy.Xds.Protocol;

/// <summary>
/// SDS over the ADS stream: the secrets the accepted clusters name with <c>sds_config: { ads: {} }</c> are asked for
/// by name, following CDS as EDS does. An accepted secret is rotated in place in the certificate store (new
/// handshakes take it, open connections keep theirs), and clusters that waited for it start serving.
/// </summary>
public sealed partial class AdsClient
{
    private readonly XdsTypeState _sds = new(XdsTypeUrls.Secret);

    /// <summary>On a new stream: no nonce yet, and the secret names held are asked for again.</summary>
    private async Task RestateSecretsAsync(StreamWriter stream)
    {
        _sds.Nonce = "";
        _sds.Requested = false;
        if (_store.SecretNames() is { Count: > 0 } names)
        {
            await stream.SendAsync(_sds, names).ConfigureAwait(false);
        }
    }

    /// <summary>After clusters changed: ask for exactly the secrets they name (an empty list once none does).</summary>
    private async Task FollowSecretsAsync(StreamWriter stream)
    {
        var names = _store.SecretNames();
        if ((_sds.Requested || names.Count > 0) && !names.SequenceEqual(_sds.Names))
        {
            await stream.SendAsync(_sds, names).ConfigureAwait(false);
        }
    }

    private async Task OnSecretsAsync(StreamWriter stream, DiscoveryResponse response)
    {
        var now = DateTimeOffset.UtcNow;
        string? error;
        try
        {
            // Secrets not (or no longer) asked for are skipped: a response may cross an unsubscription.
            var wanted = new HashSet<string>(_store.SecretNames(), StringComparer.Ordinal);
            var resources = Unpack(response, Secret.Parser).Where(s => wanted.Contains(s.Name)).ToList();
            var candidate = _store.Secrets.Translate(resources, response.VersionInfo, now);

            // Each secret loaded once already, so this cannot fail half way; clusters that waited for one serve now.
            _store.Secrets.Commit(candidate);
            error = await _apply(_store.Configs()).ConfigureAwait(false);

            // Listeners whose TLS chains waited for a secret are bound now (a rotation changes no configuration).
            // (Under UpdateGate, taken by the caller.)
            if (error is null && ListenerStore is { } listeners && ApplyListeners is not null)
            {
                error = await Apply(listeners.Configs()).ConfigureAwait(false);
            }
        }
        catch (XdsRejectedException ex)
        {
            error = ex.Message;
        }

        if (error is not null)
        {
            await RejectAsync(stream, _sds, response, error).ConfigureAwait(false);
            return;
        }

        await AcceptAsync(stream, _sds, response, now, ("secrets", response.Resources.Count)).ConfigureAwait(false);
    }
}
