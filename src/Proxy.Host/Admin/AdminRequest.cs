using System.Net;

namespace Proxy.Host.Admin;

/// <summary>One admin request as the routes see it: method, path, query and who asked.</summary>
/// <param name="Remote">The client's address; null when unknown (never for a socket client).</param>
public readonly record struct AdminRequest(string Method, string Path, string Query, IPAddress? Remote)
{
    /// <summary>Splits a request target into path and query.</summary>
    public static AdminRequest From(string method, string target, IPAddress? remote)
    {
        int question = target.IndexOf('?');
        return question < 0
            ? new AdminRequest(method, target, "", remote)
            : new AdminRequest(method, target[..question], target[(question + 1)..], remote);
    }

    /// <summary>Whether the client is on this host (127.0.0.0/8, ::1, or an IPv4-mapped loopback address).</summary>
    public bool IsFromLoopback => Remote is { } address && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    /// <summary>The value of a query parameter (percent-decoded), or null when absent.</summary>
    public string? QueryValue(string name)
    {
        foreach (var part in Query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=');
            string key = eq < 0 ? part : part[..eq];
            if (key == name)
            {
                return eq < 0 ? "" : Uri.UnescapeDataString(part[(eq + 1)..].Replace('+', ' '));
            }
        }

        return null;
    }
}
