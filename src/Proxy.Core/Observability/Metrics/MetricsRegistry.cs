using System.Collections.Concurrent;
using System.Text;

namespace Proxy.Observability.Metrics;

/// <summary>
/// All metric families of the process, rendered for GET /metrics in the Prometheus text format.
/// Registering a name twice returns the first family (reloads re-register the same names).
/// </summary>
public sealed class MetricsRegistry
{
    /// <summary>Envoy's default millisecond buckets, which Istio dashboards expect.</summary>
    public static readonly double[] MillisecondBuckets =
        [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

    /// <summary>Byte-size buckets for request and response sizes.</summary>
    public static readonly double[] ByteBuckets =
        [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000];

    private readonly ConcurrentDictionary<string, MetricFamily> _families = new();
    private readonly List<string> _order = [];

    public CounterFamily Counter(string name, string help, params string[] labelNames) =>
        Register(name, () => new CounterFamily(name, help, labelNames));

    public GaugeFamily Gauge(string name, string help, params string[] labelNames) =>
        Register(name, () => new GaugeFamily(name, help, labelNames));

    public HistogramFamily Histogram(string name, string help, double[] upperBounds, params string[] labelNames) =>
        Register(name, () => new HistogramFamily(name, help, upperBounds, labelNames));

    public CallbackGauge CallbackGauge(string name, string help, Func<double> read) =>
        Register(name, () => new CallbackGauge(name, help, read));

    private T Register<T>(string name, Func<T> create)
        where T : MetricFamily
    {
        lock (_order)
        {
            if (_families.TryGetValue(name, out var existing))
            {
                return existing as T ?? throw new InvalidOperationException($"metric {name} already registered as {existing.GetType().Name}");
            }

            var family = create();
            _families[name] = family;
            _order.Add(name);
            return family;
        }
    }

    /// <summary>Renders every family, in registration order.</summary>
    public string Render()
    {
        string[] names;
        lock (_order)
        {
            names = _order.ToArray();
        }

        var output = new StringBuilder(16 * 1024);
        foreach (var name in names)
        {
            _families[name].WriteTo(output);
        }

        return output.ToString();
    }
}
