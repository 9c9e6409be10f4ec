using System.Text;
using Proxy.Forwarding;
using Proxy.Http.Http2;
using Proxy.Observability;

namespace Proxy.Tests.Forwarding;

public class RequestTraceTests
{
    private const string TraceId = "0af7651916cd43dd8448eb211c80319c";
    private const string SpanId = "b7ad6b7169203331";

    private static RequestTrace Start(params (string Name, string Value)[] fields)
    {
        var headers = new Http2HeaderList();
        headers.Add(":method"u8, "GET"u8);
        headers.Add(":path"u8, "/"u8);
        foreach (var (name, value) in fields)
        {
            headers.Add(Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value));
        }

        var view = new Http2RequestView(headers);
        var trace = default(RequestTrace);
        trace.Start(RequestTelemetry.None, ref view);
        return trace;
    }

    private static string TraceParent(in RequestTrace trace)
    {
        var buffer = new byte[RequestTrace.B3Length];
        return Encoding.ASCII.GetString(buffer, 0, trace.FormatTraceParent(buffer));
    }

    private static string B3(in RequestTrace trace)
    {
        var buffer = new byte[RequestTrace.B3Length];
        return Encoding.ASCII.GetString(buffer, 0, trace.FormatB3(buffer));
    }

    [Fact]
    public void Start_W3CParent_ChildInSameTrace()
    {
        var trace = Start(("traceparent", $"00-{TraceId}-{SpanId}-01"));
        var parts = TraceParent(trace).Split('-');
        Assert.Equal(TraceId, parts[1]);
        Assert.NotEqual(SpanId, parts[2]);
        Assert.Equal("01", parts[3]);
        Assert.Equal(SpanId, trace.ParentSpan.ToString());
        Assert.False(trace.FromB3);
    }

    [Fact]
    public void Start_B3Single_ChildAndB3WithParent()
    {
        var trace = Start(("b3", $"{TraceId}-{SpanId}-0"));
        Assert.True(trace.FromB3);
        var parts = TraceParent(trace).Split('-');
        Assert.Equal(TraceId, parts[1]);
        Assert.Equal("00", parts[3]); // the client's decision: not sampled
        Assert.Equal($"{TraceId}-{parts[2]}-0-{SpanId}", B3(trace));
    }

    [Fact]
    public void Start_B3Multi_Child()
    {
        var trace = Start(("x-b3-traceid", TraceId), ("x-b3-spanid", SpanId), ("x-b3-sampled", "1"));
        Assert.True(trace.FromB3);
        Assert.Equal(TraceId, TraceParent(trace).Split('-')[1]);
        Assert.True(trace.Span.Sampled);
    }

    [Fact]
    public void Start_W3CWinsOverB3()
    {
        var trace = Start(("b3", $"463ac35c9f6413ad48485a3953bb6124-{SpanId}-1"), ("traceparent", $"00-{TraceId}-{SpanId}-01"));
        Assert.False(trace.FromB3);
        Assert.Equal(TraceId, TraceParent(trace).Split('-')[1]);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("00-00000000000000000000000000000000-b7ad6b7169203331-01")]
    public void Start_NoValidContext_NewRoot(string? traceParent)
    {
        var trace = traceParent is null ? Start() : Start(("traceparent", traceParent));
        Assert.True(trace.Span.IsValid);
        Assert.False(trace.ParentSpan.IsValid);
        Assert.False(trace.FromB3);
        Assert.Equal(0, trace.StartUnixNanos); // no access log nor exporter: no clock read
        Assert.Equal(51, B3(trace).Length); // no parent part
    }
}
