using System.Globalization;
using System.Net;

namespace Proxy.Configuration;

/// <summary>
/// A configured address: a host (IPv4, IPv6 without brackets, or a DNS name) and a port 1-65535.
/// Written as <c>host:port</c>, with brackets for IPv6: <c>[::1]:80</c>.
/// </summary>
public readonly record struct HostPort(string Host, int Port)
{
    /// <summary>Parses <c>host:port</c> or <c>[v6]:port</c>; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse(string text, out HostPort value, out string error)
    {
        value = default;
        string host;
        string portText;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']');
            if (close < 0)
            {
                error = $"'{text}' is missing the closing ']' of an IPv6 address";
                return false;
            }
            host = text[1..close];
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                error = $"'{host}' is not an IPv6 address";
                return false;
            }
            if (close + 1 >= text.Length || text[close + 1] != ':')
            {
                error = $"'{text}' has no port (expected [address]:port)";
                return false;
            }
            portText = text[(close + 2)..];
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon < 0)
            {
                error = $"'{text}' has no port (expected host:port)";
                return false;
            }
            host = text[..colon];
            if (host.Contains(':'))
            {
                error = $"'{text}': write IPv6 addresses in brackets, as [::1]:80";
                return false;
            }
            portText = text[(colon + 1)..];
            if (!IsValidHost(host))
            {
                error = $"'{host}' is not a valid host name or address";
                return false;
            }
        }
        if (portText.Length == 0)
        {
            error = $"'{text}' has no port";
            return false;
        }
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port < 0 || port > 65535)
        {
            error = $"port '{portText}' is out of range (0-65535; 0 binds any free port)";
            return false;
        }
        value = new HostPort(host, port);
        error = "";
        return true;
    }

    /// <summary>True for a non-empty DNS name or IPv4 literal (letters, digits, '-', '.', '_').</summary>
    public static bool IsValidHost(string host)
    {
        if (host.Length == 0 || host.Length > 253)
        {
            return false;
        }
        foreach (char c in host)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Formats back to the configuration form, bracketing IPv6 hosts.</summary>
    public override string ToString() => Host.Contains(':')
        ? "[" + Host + "]:" + Port.ToString(CultureInfo.InvariantCulture)
        : Host + ":" + Port.ToString(CultureInfo.InvariantCulture);
}
