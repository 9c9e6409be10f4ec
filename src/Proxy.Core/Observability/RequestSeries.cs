using Proxy.Observability.Metrics;

namespace Proxy.Observability;

/// <summary>The four request metrics of one label set, recorded together when a request ends.</summary>
public sealed class RequestSeries(RequestMetricFamilies families, string[] labels)
{
    private readonly Counter _requests = families.Requests.WithLabels(labels);
    private readonly Histogram _duration = families.Duration.WithLabels(labels);
    private readonly Histogram _requestBytes = families.RequestBytes.WithLabels(labels);
    private readonly Histogram _responseBytes = families.ResponseBytes.WithLabels(labels);

    public void Record(double milliseconds, long requestBytes, long responseBytes)
    {
        _requests.Increment();
        _duration.Observe(milliseconds);
        _requestBytes.Observe(requestBytes);
        _responseBytes.Observe(responseBytes);
    }
}
