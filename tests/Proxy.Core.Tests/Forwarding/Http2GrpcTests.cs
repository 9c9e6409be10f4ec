using System.Text;
using Proxy.Forwarding;

namespace Proxy.Tests.Forwarding;

public class Http2GrpcTests
{
    [Theory]
    [InlineData(ResponseFlag.UpstreamTimeout, 504, "4")]
    [InlineData(ResponseFlag.RateLimited, 429, "14")] // Envoy's default (rate_limited_as_resource_exhausted off)
    [InlineData(ResponseFlag.UpstreamOverflow, 503, "14")]
    [InlineData(ResponseFlag.NoRoute, 404, "14")]
    [InlineData(ResponseFlag.FaultInjected, 503, "14")]
    [InlineData(ResponseFlag.FaultInjected, 400, "13")]
    [InlineData(ResponseFlag.AccessDenied, 403, "7")]
    [InlineData(ResponseFlag.FaultInjected, 401, "16")]
    [InlineData(ResponseFlag.FaultInjected, 403, "7")]
    [InlineData(ResponseFlag.FaultInjected, 404, "12")]
    [InlineData(ResponseFlag.FaultInjected, 429, "14")]
    [InlineData(ResponseFlag.FaultInjected, 500, "2")]
    [InlineData(ResponseFlag.FaultInjected, 200, "2")]
    public void StatusFor_FlagAndStatus_GrpcStatus(ResponseFlag flag, int status, string expected) =>
        Assert.Equal(expected, Encoding.ASCII.GetString(Http2Grpc.StatusFor(flag, status)));
}
