using System.Buffers;
using System.Text;
using Proxy.Forwarding;
using Proxy.Routing;
using Proxy.Runtime;
using Proxy.Upstream;

namespace Proxy.Tests.Filters;

/// <summary>An exchange over plain strings that records the answers filters give, for filter and chain tests.</summary>
internal sealed class TestExchange : HttpExchange
{
    private readonly byte[] _host;
    private readonly byte[] _path;
    private readonly byte[] _method;
    private readonly (byte[] Name, byte[] Value)[] _headers;

    public TestExchange(HttpRouting routing, RouteRuntime? action, Cluster? cluster = null, bool hasBody = false, string path = "/", string method = "GET", params (string Name, string Value)[] headers)
    {
        _host = "example.test"u8.ToArray();
        _path = Encoding.ASCII.GetBytes(path);
        _method = Encoding.ASCII.GetBytes(method);
        _headers = headers.Select(static h => (Encoding.ASCII.GetBytes(h.Name), Encoding.ASCII.GetBytes(h.Value))).ToArray();
        HasBody = hasBody;
        Routing = routing;
        SetRoute(action?.Route, action, cluster, action?.Metrics[0] ?? routing.NoRoute);
    }

    public List<(int Status, ResponseFlag Flag)> Answers { get; } = [];

    public bool Gone { get; set; }

    public int GoneRecorded { get; private set; }

    public override ReadOnlySpan<byte> Host => _host;

    public override ReadOnlySpan<byte> Path => _path;

    public override ReadOnlySpan<byte> Target => _path;

    public override ReadOnlySpan<byte> Method => _method;

    public override bool TryGetHeader(ReadOnlySpan<byte> lowerName, out ReadOnlySpan<byte> value)
    {
        foreach (var (name, v) in _headers)
        {
            if (lowerName.SequenceEqual(name))
            {
                value = v;
                return true;
            }
        }

        value = default;
        return false;
    }

    public override bool HasBody { get; }

    public override string Protocol => "HTTP/1.1";

    public override ReadOnlySpan<byte> ClientAddressText => "192.0.2.10"u8;

    public override ReadOnlySpan<byte> RequestId => TryGetHeader("x-request-id"u8, out var id) ? id : "generated-id"u8;

    public override int HeadSizeHint => 256;

    public override bool ClientGone => Gone;

    public override ValueTask AnswerAsync(int status, ResponseFlag flag)
    {
        Answers.Add((status, flag));
        return ValueTask.CompletedTask;
    }

    public override void RecordClientGone() => GoneRecorded++;

    public override void WriteHttp1CopyHead(IBufferWriter<byte> output) => output.Write("GET / HTTP/1.1\r\nhost: example.test\r\nconnection: close\r\n\r\n"u8);

    public override void WriteHttp2CopyHeaders(Proxy.Http.Http2.Http2HeaderList target, ReadOnlySpan<byte> scheme)
    {
        target.Add(":method"u8, _method);
        target.Add(":scheme"u8, scheme);
        target.Add(":authority"u8, _host);
        target.Add(":path"u8, _path);
    }
}
