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
        var value = Of(duration, where, field);
        return value >= TimeSpan.Zero ? value : throw new XdsRejectedException($"{where}: {field}: {value.TotalMilliseconds}ms is negative");
    }

    /// <summary>
    /// A protobuf <c>Duration</c> as a TimeSpan. One that is not normalized (nanos of a whole second or more, a sign
    /// that differs from the seconds', or more than 10,000 years; google/protobuf/duration.proto), which
    /// Google.Protobuf refuses to convert with an exception, is a rejection naming the field. The xds-translation fuzz
    /// target found the exception.
    /// </summary>
    public static TimeSpan Of(Duration duration, string where, string field)
    {
        const long MaxSeconds = 315_576_000_000; // 10,000 years, duration.proto's bound
        var (seconds, nanos) = (duration.Seconds, duration.Nanos);
        var normalized = seconds is >= -MaxSeconds and <= MaxSeconds && nanos is > -1_000_000_000 and < 1_000_000_000
            && (seconds == 0 || nanos == 0 || (seconds < 0) == (nanos < 0));
        return normalized ? duration.ToTimeSpan()
            : throw new XdsRejectedException($"{where}: {field}: {{ seconds: {seconds}, nanos: {nanos} }} is not a valid duration; nanos must be under one second and have the sign of seconds");
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
