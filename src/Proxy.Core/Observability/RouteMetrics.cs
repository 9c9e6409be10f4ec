using System.Globalization;
using Proxy.Forwarding;

namespace Proxy.Observability;

/// <summary>
/// Request metrics of one (listener, route, cluster): a series per response code and flag, created
/// the first time that combination is seen and then found by array index, so recording a request
/// neither allocates nor looks anything up by string.
/// </summary>
public sealed class RouteMetrics(RequestMetricFamilies families, string listener, string route, string cluster)
{
    private const int MinStatus = 100;
    private const int StatusCount = 500; // 100..599
    private readonly RequestSeries?[] _series = new RequestSeries?[StatusCount * ResponseFlags.Count];

    public RequestSeries Get(int status, ResponseFlag flag)
    {
        var statusIndex = (uint)(status - MinStatus) < StatusCount ? status - MinStatus : 0;
        var index = statusIndex * ResponseFlags.Count + (int)flag;
        return Volatile.Read(ref _series[index]) ?? Create(index, status, flag);
    }

    private RequestSeries Create(int index, int status, ResponseFlag flag)
    {
        var series = new RequestSeries(families, [
            "source", listener, route, cluster, "http",
            status.ToString(CultureInfo.InvariantCulture), flag.ShortCode()]);
        return Interlocked.CompareExchange(ref _series[index], series, null) ?? series;
    }
}
