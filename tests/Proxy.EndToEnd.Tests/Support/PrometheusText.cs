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

    /// <summary>
    /// The value of a series, or 0 when it is absent (counters not yet touched). A series named with only some of its
    /// labels (<c>name{a="1",b="2"}</c>) is the sum of every series of that name carrying those labels with those
    /// values, as PromQL's <c>sum(name{a="1",b="2"})</c>: tests name the labels they check, not all of Istio's.
    /// </summary>
    public static double Value(this Dictionary<string, double> samples, string series)
    {
        if (samples.TryGetValue(series, out var value))
        {
            return value;
        }

        var open = series.IndexOf('{');
        if (open < 0 || !series.EndsWith('}'))
        {
            return 0;
        }

        var name = series[..(open + 1)];
        var wanted = SplitLabels(series[(open + 1)..^1]);
        double sum = 0;
        foreach (var (key, sample) in samples)
        {
            if (key.StartsWith(name, StringComparison.Ordinal) && key.EndsWith('}'))
            {
                var labels = SplitLabels(key[(open + 1)..^1]);
                if (wanted.All(labels.Contains))
                {
                    sum += sample;
                }
            }
        }

        return sum;
    }

    /// <summary>The <c>label="value"</c> pairs of a series (label values here never hold <c>",</c>).</summary>
    private static HashSet<string> SplitLabels(string labels)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in labels.Split("\",", StringSplitOptions.RemoveEmptyEntries))
        {
            set.Add(part.EndsWith('"') ? part : part + "\"");
        }

        return set;
    }
}
