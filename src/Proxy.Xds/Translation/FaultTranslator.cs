using Envoy.Extensions.Filters.Common.Fault.V3;
using Envoy.Extensions.Filters.Http.Fault.V3;
using Envoy.Type.V3;
using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// The <c>envoy.filters.http.fault</c> filter as the listener's fault (<see cref="ListenerConfig.Fault"/>): a fixed
/// delay and an HTTP abort at their percentages, for requests matching its headers. Faults the client's headers
/// choose, gRPC aborts, response rate limits, a cap on active faults and faults for one upstream cluster or
/// downstream node are rejections naming the field. The <c>*_runtime</c> keys name overrides from Envoy's runtime,
/// which the proxy does not have: the configured values apply, as in an Envoy without those runtime keys.
/// </summary>
internal static class FaultTranslator
{
    /// <returns>The fault, or null when it injects nothing (no delay and no abort).</returns>
    public static FaultConfig? Translate(HTTPFault fault, string where)
    {
        if (fault.ResponseRateLimit is not null)
        {
            throw new XdsRejectedException($"{where}.response_rate_limit: slowing responses down is not supported; remove it");
        }

        if (fault.MaxActiveFaults is not null)
        {
            throw new XdsRejectedException($"{where}.max_active_faults: a cap on faults in progress is not supported; remove it (every matching request gets the fault)");
        }

        if (fault.UpstreamCluster.Length > 0)
        {
            throw new XdsRejectedException($"{where}.upstream_cluster: faults for one upstream cluster are not supported; configure the fault on that cluster's routes");
        }

        if (fault.DownstreamNodes.Count > 0)
        {
            throw new XdsRejectedException($"{where}.downstream_nodes: faults for named downstream nodes are not supported (the proxy reads no x-envoy-downstream-service-node)");
        }

        FaultDelayConfig? delay = null;
        if (fault.Delay is { } d)
        {
            delay = d.FaultDelaySecifierCase switch
            {
                FaultDelay.FaultDelaySecifierOneofCase.FixedDelay => new FaultDelayConfig
                {
                    Duration = XdsText.NonNegative(d.FixedDelay, where, "delay.fixed_delay"),
                    Percent = Percent(d.Percentage),
                },
                FaultDelay.FaultDelaySecifierOneofCase.HeaderDelay => throw new XdsRejectedException($"{where}.delay.header_delay: delays chosen by the client's x-envoy-fault-delay-request header are not supported; send fixed_delay"),
                _ => throw new XdsRejectedException($"{where}.delay: a delay needs fixed_delay"),
            };
        }

        FaultAbortConfig? abort = null;
        if (fault.Abort is { } a)
        {
            abort = a.ErrorTypeCase switch
            {
                FaultAbort.ErrorTypeOneofCase.HttpStatus when a.HttpStatus is >= 200 and < 600 => new FaultAbortConfig { Status = (int)a.HttpStatus, Percent = Percent(a.Percentage) },
                FaultAbort.ErrorTypeOneofCase.HttpStatus => throw new XdsRejectedException($"{where}.abort.http_status: {a.HttpStatus} is not a status from 200 to 599"),
                FaultAbort.ErrorTypeOneofCase.GrpcStatus => throw new XdsRejectedException($"{where}.abort.grpc_status: gRPC aborts are not supported; send http_status (a gRPC call gets it mapped to a gRPC status)"),
                FaultAbort.ErrorTypeOneofCase.HeaderAbort => throw new XdsRejectedException($"{where}.abort.header_abort: aborts chosen by the client's x-envoy-fault-abort-request header are not supported; send http_status"),
                _ => throw new XdsRejectedException($"{where}.abort: an abort needs http_status"),
            };
        }

        if (delay is null && abort is null)
        {
            return null;
        }

        var headers = new HeaderMatchConfig[fault.Headers.Count];
        for (var i = 0; i < headers.Length; i++)
        {
            headers[i] = RouteMatchTranslator.Header(fault.Headers[i], where, $"headers[{i}]");
        }

        return new FaultConfig { Delay = delay, Abort = abort, Headers = headers };
    }

    /// <summary>A <c>FractionalPercent</c> as 0-100; unset is 0, as Envoy reads a fault without a percentage.</summary>
    internal static double Percent(FractionalPercent? percent)
    {
        if (percent is null)
        {
            return 0;
        }

        double scale = percent.Denominator switch
        {
            FractionalPercent.Types.DenominatorType.TenThousand => 100,
            FractionalPercent.Types.DenominatorType.Million => 10_000,
            _ => 1,
        };
        return Math.Min(100, percent.Numerator / scale);
    }
}
