namespace Proxy.Resilience;

/// <summary>The configuration names of <see cref="RetryOn"/> flags (the <c>retry_on</c> values in docs/configuration.md).</summary>
public static class RetryOnNames
{
    /// <summary>Maps one <c>retry_on</c> name to its flag; false for an unknown name.</summary>
    public static bool TryParse(string name, out RetryOn flag)
    {
        flag = name switch
        {
            "connect-failure" => RetryOn.ConnectFailure,
            "reset" => RetryOn.Reset,
            "5xx" => RetryOn.Status5xx,
            "gateway-error" => RetryOn.GatewayError,
            "retriable-status-codes" => RetryOn.RetriableStatusCodes,
            "cancelled" => RetryOn.GrpcCancelled,
            "deadline-exceeded" => RetryOn.GrpcDeadlineExceeded,
            "resource-exhausted" => RetryOn.GrpcResourceExhausted,
            "unavailable" => RetryOn.GrpcUnavailable,
            "refused-stream" => RetryOn.RefusedStream,
            _ => RetryOn.None,
        };
        return flag != RetryOn.None;
    }

    /// <summary>Combines a <c>retry_on</c> list; unknown names (rejected by config validation) are ignored.</summary>
    public static RetryOn Parse(IReadOnlyList<string> names)
    {
        var result = RetryOn.None;
        for (int i = 0; i < names.Count; i++)
        {
            if (TryParse(names[i], out var flag))
            {
                result |= flag;
            }
        }

        return result;
    }
}
