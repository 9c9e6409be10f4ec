using System.Text.RegularExpressions;
using Google.Protobuf.WellKnownTypes;

namespace Proxy.Xds.Translation;

/// <summary>Small checks the listener and route translators share: field names, durations, regexes.</summary>
internal static class XdsText
{
    /// <summary>An HTTP token (RFC 9110 5.6.2): what a field name or a method must be.</summary>
    public static bool IsToken(string value)
    {
        if (value.Length == 0)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A duration that must not be negative; zero stays zero (Envoy's "disabled" for most timeouts).</summary>
    public static TimeSpan NonNegative(Duration duration, string where, string field)
    {
        var value = duration.ToTimeSpan();
        return value >= TimeSpan.Zero ? value : throw new XdsRejectedException($"{where}: {field}: {value.TotalMilliseconds}ms is negative");
    }

    /// <summary>
    /// Checks a <c>safe_regex</c> runs on the proxy's linear-time engine (as the file's binder does), so a construct it
    /// cannot run is a rejection naming the field, not a failed snapshot.
    /// </summary>
    public static string Regex(string pattern, string where, string field)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
            return pattern;
        }
        catch (RegexParseException e)
        {
            throw new XdsRejectedException($"{where}: {field}: invalid regular expression: {e.Error} at offset {e.Offset}");
        }
        catch (NotSupportedException)
        {
            throw new XdsRejectedException($"{where}: {field}: '{pattern}' uses a construct the linear-time regex engine cannot run (a backreference, lookaround, atomic group or conditional)");
        }
        catch (ArgumentException)
        {
            throw new XdsRejectedException($"{where}: {field}: invalid regular expression; check its syntax");
        }
    }
}
