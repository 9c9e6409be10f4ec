using System.Net;
using Proxy.Configuration;

namespace Proxy.Runtime;

/// <summary>Turns configured <c>host:port</c> addresses into socket endpoints.</summary>
public static class AddressResolver
{
    /// <summary>
    /// An address for an upstream endpoint: IP literals become <see cref="IPEndPoint"/>, names stay
    /// <see cref="DnsEndPoint"/> and are resolved by the connect itself, off the request path.
    /// </summary>
    public static EndPoint ForConnect(HostPort address) =>
        IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip)
            ? new IPEndPoint(ip, address.Port)
            : new DnsEndPoint(address.Host, address.Port);

    /// <summary>An address to bind: names (e.g. <c>localhost</c>) are resolved once, when the listener is built.</summary>
    public static IPEndPoint ForBind(HostPort address)
    {
        var host = address.Host.Trim('[', ']');
        if (host is "" or "*")
        {
            return new IPEndPoint(IPAddress.Any, address.Port);
        }

        if (IPAddress.TryParse(host, out var ip))
        {
            return new IPEndPoint(ip, address.Port);
        }

        var resolved = Dns.GetHostAddresses(host);
        var chosen = Array.Find(resolved, a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? resolved[0];
        return new IPEndPoint(chosen, address.Port);
    }
}
