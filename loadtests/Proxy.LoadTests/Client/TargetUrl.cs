using System.Net;

namespace Proxy.LoadTests.Client;

/// <summary>Turns an http:// URL into the socket address the raw client dials.</summary>
public static class TargetUrl
{
    /// <summary>The IP endpoint of <paramref name="url"/>; "localhost" maps to 127.0.0.1, other names resolve once.</summary>
    public static IPEndPoint ToEndPoint(Uri url)
    {
        if (url.Scheme != Uri.UriSchemeHttp)
        {
            throw new ArgumentException($"only http:// URLs are supported, got '{url}'");
        }

        IPAddress address;
        if (url.IsLoopback && url.Host == "localhost")
        {
            address = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(url.Host.Trim('[', ']'), out address!))
        {
            address = Dns.GetHostAddresses(url.Host)[0];
        }

        return new IPEndPoint(address, url.Port);
    }
}
