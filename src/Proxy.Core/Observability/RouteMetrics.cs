using System.Globalization;
using Proxy.Forwarding;

namespace Proxy.Observability;

/// <summary>
/// Request metrics of one (listener, route, cluster): a series per response code and flag, created
/// the first time that combination is seen and then found by array index, so recording a request
/// neither allocates nor looks anything up by string.
/// </summary>
public sealed class RouteMetrics(RequestMetricFamilies families, string listener, string route, string cluster, string reporter = "source")
{
    private const int MinStatus = 100;
    private const int StatusCount = 500; // 100..599
    private const int NoStatus = StatusCount; // the slot of status 0: no response was sent (DC)
    private const int SlotCount = (StatusCount + 1) * ResponseFlags.Count;
    private readonly RequestSeries?[] _series = new RequestSeries?[SlotCount];
    private RequestSeries?[]? _grpcSeries; // request_protocol="grpc", made on the first gRPC request

    public RequestSeries Get(int status, ResponseFlag flag) => Get(status, flag, grpc: false);

    /// <summary>The series of a request; <paramref name="grpc"/> selects request_protocol "grpc" instead of "http".</summary>
    public RequestSeries Get(int status, ResponseFlag flag, bool grpc)
    {
        var statusIndex = (uint)(status - MinStatus) < StatusCount ? status - MinStatus : status == 0 ? NoStatus : 0;
        var index = statusIndex * ResponseFlags.Count + (int)flag;
        var series = grpc
            ? Volatile.Read(ref _grpcSeries) ?? CreateGrpcSeries()
            : _series;
        return Volatile.Read(ref series[index]) ?? Create(series, index, status, flag, grpc ? "grpc" : "http");
    }

    private RequestSeries?[] CreateGrpcSeries() =>
        Interlocked.CompareExchange(ref _grpcSeries, new RequestSeries?[SlotCount], null) ?? _grpcSeries!;

    private RequestSeries Create(RequestSeries?[] array, int index, int status, ResponseFlag flag, string protocol)
    {
        var series = new RequestSeries(families, [
            reporter, listener, route, cluster, protocol,
            status.ToString(CultureInfo.InvariantCulture), flag.ShortCode()]);
        return Interlocked.CompareExchange(ref array[index], series, null) ?? series;
    }
}
