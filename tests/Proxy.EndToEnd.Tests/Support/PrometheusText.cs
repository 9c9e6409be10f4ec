using System.Globalization;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>
/// A small parser of the Prometheus text exposition format, so tests check metric values rather
/// than grepping names. Returns samples keyed by <c>name{label="value",...}</c> exactly as exposed
/// (labels in exposition order).
/// </summary>
public static class PrometheusText
{
    public static Dictionary<string, double> Parse(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            // The value follows the last space outside the label braces.
            var close = line.LastIndexOf('}');
            var space = line.IndexOf(' ', close < 0 ? 0 : close);
            var key = line[..space];
            var valueText = line[(space + 1)..].Split(' ')[0];
            var value = valueText switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                _ => double.Parse(valueText, CultureInfo.InvariantCulture),
            };
            if (!samples.TryAdd(key, value))
            {
                throw new FormatException($"duplicate series {key}");
            }
        }

        return samples;
    }

    /// <summary>The value of a series, or 0 when it is absent (counters not yet touched).</summary>
    public static double Value(this Dictionary<string, double> samples, string series) =>
        samples.TryGetValue(series, out var value) ? value : 0;
}
