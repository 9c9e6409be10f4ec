using System.Collections.Concurrent;
using System.Text;

namespace Proxy.Observability.Metrics;

/// <summary>
/// One metric name with its help text, type and label names, and a child per label-value set.
/// Children are looked up when a listener, route or cluster is built, not per request; the hot path
/// holds the child and only increments it. Cardinality is capped: past <see cref="MaxSeries"/> label
/// sets, new ones share a single overflow series whose label values are all "overflow".
/// </summary>
public abstract class MetricFamily
{
    /// <summary>Most label sets one family keeps before folding new ones into the overflow series.</summary>
    public const int MaxSeries = 2000;

    protected MetricFamily(string name, string help, MetricType type, string[] labelNames)
    {
        Name = name;
        Help = help;
        Type = type;
        LabelNames = labelNames;
    }

    public string Name { get; }

    public string Help { get; }

    public MetricType Type { get; }

    public IReadOnlyList<string> LabelNames { get; }

    /// <summary>Writes this family in the Prometheus text exposition format 0.0.4.</summary>
    public abstract void WriteTo(StringBuilder output);

    protected static string Key(string[] values) => values.Length switch
    {
        0 => string.Empty,
        1 => values[0],
        _ => string.Join('\u0001', values),
    };

    protected void WriteHeader(StringBuilder output)
    {
        output.Append("# HELP ").Append(Name).Append(' ').Append(Help).Append('\n');
        output.Append("# TYPE ").Append(Name).Append(' ').Append(Type switch
        {
            MetricType.Counter => "counter",
            MetricType.Gauge => "gauge",
            _ => "histogram",
        }).Append('\n');
    }

    /// <summary>Appends <c>{a="x",b="y"}</c> (or nothing when there are no labels), plus one extra label if given.</summary>
    protected void WriteLabels(StringBuilder output, string[] values, string? extraName = null, string? extraValue = null)
    {
        if (values.Length == 0 && extraName is null)
        {
            return;
        }

        output.Append('{');
        for (var i = 0; i < values.Length; i++)
        {
            if (i > 0)
            {
                output.Append(',');
            }

            output.Append(LabelNames[i]).Append("=\"");
            AppendEscaped(output, values[i]);
            output.Append('"');
        }

        if (extraName is not null)
        {
            if (values.Length > 0)
            {
                output.Append(',');
            }

            output.Append(extraName).Append("=\"").Append(extraValue).Append('"');
        }

        output.Append('}');
    }

    protected static void AppendValue(StringBuilder output, double value)
    {
        if (double.IsPositiveInfinity(value))
        {
            output.Append("+Inf");
        }
        else
        {
            output.Append(value.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    // Text format: label values escape backslash, double quote and line feed.
    private static void AppendEscaped(StringBuilder output, string value)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': output.Append("\\\\"); break;
                case '"': output.Append("\\\""); break;
                case '\n': output.Append("\\n"); break;
                default: output.Append(c); break;
            }
        }
    }
}

/// <summary>A metric family whose children are of type <typeparamref name="TChild"/>.</summary>
public abstract class MetricFamily<TChild> : MetricFamily
    where TChild : class
{
    private readonly ConcurrentDictionary<string, (string[] Values, TChild Child)> _children = new();
    private TChild? _overflow;

    protected MetricFamily(string name, string help, MetricType type, string[] labelNames)
        : base(name, help, type, labelNames)
    {
    }

    /// <summary>The child for these label values (in label-name order), created on first use.</summary>
    public TChild WithLabels(params string[] values)
    {
        if (values.Length != LabelNames.Count)
        {
            throw new ArgumentException($"{Name} has {LabelNames.Count} labels, got {values.Length} values");
        }

        var key = Key(values);
        if (_children.TryGetValue(key, out var existing))
        {
            return existing.Child;
        }

        if (_children.Count >= MaxSeries)
        {
            return LazyInitializer.EnsureInitialized(ref _overflow, () =>
            {
                var overflowValues = new string[values.Length];
                Array.Fill(overflowValues, "overflow");
                return _children.GetOrAdd(Key(overflowValues), _ => (overflowValues, CreateChild())).Child;
            });
        }

        return _children.GetOrAdd(key, static (_, state) => (state.values, state.family.CreateChild()), (values: (string[])values.Clone(), family: this)).Child;
    }

    protected abstract TChild CreateChild();

    public override void WriteTo(StringBuilder output)
    {
        if (_children.IsEmpty)
        {
            return;
        }

        WriteHeader(output);
        var series = _children.Values.ToArray();
        Array.Sort(series, static (a, b) => string.CompareOrdinal(Key(a.Values), Key(b.Values)));
        foreach (var (values, child) in series)
        {
            WriteChild(output, values, child);
        }
    }

    protected abstract void WriteChild(StringBuilder output, string[] values, TChild child);
}

/// <summary>A family of counters.</summary>
public sealed class CounterFamily(string name, string help, string[] labelNames)
    : MetricFamily<Counter>(name, help, MetricType.Counter, labelNames)
{
    protected override Counter CreateChild() => new();

    protected override void WriteChild(StringBuilder output, string[] values, Counter child)
    {
        output.Append(Name);
        WriteLabels(output, values);
        output.Append(' ').Append(child.Value).Append('\n');
    }
}

/// <summary>A family of gauges.</summary>
public sealed class GaugeFamily(string name, string help, string[] labelNames)
    : MetricFamily<Gauge>(name, help, MetricType.Gauge, labelNames)
{
    protected override Gauge CreateChild() => new();

    protected override void WriteChild(StringBuilder output, string[] values, Gauge child)
    {
        output.Append(Name);
        WriteLabels(output, values);
        output.Append(' ').Append(child.Value).Append('\n');
    }
}

/// <summary>A family of histograms sharing one set of bucket bounds.</summary>
public sealed class HistogramFamily(string name, string help, double[] upperBounds, string[] labelNames)
    : MetricFamily<Histogram>(name, help, MetricType.Histogram, labelNames)
{
    protected override Histogram CreateChild() => new(upperBounds);

    protected override void WriteChild(StringBuilder output, string[] values, Histogram child)
    {
        Span<long> cumulative = stackalloc long[upperBounds.Length + 1];
        var count = child.CopyCumulative(cumulative);
        for (var i = 0; i <= upperBounds.Length; i++)
        {
            output.Append(Name).Append("_bucket");
            var le = i < upperBounds.Length
                ? upperBounds[i].ToString("R", System.Globalization.CultureInfo.InvariantCulture)
                : "+Inf";
            WriteLabels(output, values, "le", le);
            output.Append(' ').Append(cumulative[i]).Append('\n');
        }

        output.Append(Name).Append("_sum");
        WriteLabels(output, values);
        output.Append(' ');
        AppendValue(output, child.Sum);
        output.Append('\n');
        output.Append(Name).Append("_count");
        WriteLabels(output, values);
        output.Append(' ').Append(count).Append('\n');
    }
}

/// <summary>A gauge whose value is read from a callback at scrape time (pool sizes, memory).</summary>
public sealed class CallbackGauge(string name, string help, Func<double> read)
    : MetricFamily(name, help, MetricType.Gauge, [])
{
    public override void WriteTo(StringBuilder output)
    {
        WriteHeader(output);
        output.Append(Name).Append(' ');
        AppendValue(output, read());
        output.Append('\n');
    }
}
