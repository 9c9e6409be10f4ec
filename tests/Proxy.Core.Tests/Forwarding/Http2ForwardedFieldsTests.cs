using System.Buffers;
using System.Text;
using Proxy.Forwarding;
using Proxy.Http.Http1;
using Proxy.Http.Http2;

namespace Proxy.Tests.Forwarding;

public class Http2ForwardedFieldsTests
{
    private static readonly byte[] Client = "10.0.0.9"u8.ToArray();

    [Fact]
    public void Add_Http1Request_EveryForwardedForFieldInOrderEmptySkipped()
    {
        Http1RequestHead head = Parse("GET / HTTP/1.1\r\nHost: shop\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-Proto: https\r\n"
            + "X-Forwarded-For:\r\nAccept: */*\r\nx-forwarded-for: 2.2.2.2, 3.3.3.3\r\n\r\n");
        var target = new Http2HeaderList();

        Http2ForwardedFields.Add(target, head, Client, "https"u8, "shop"u8);

        Assert.Equal(
            [("x-forwarded-for", "1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.9"), ("x-forwarded-proto", "https"), ("x-forwarded-host", "shop")],
            Fields(target));
    }

    [Fact]
    public void Add_Http1Request_ForwardedForNamedByConnection_DroppedAsHopByHop()
    {
        Http1RequestHead head = Parse("GET / HTTP/1.1\r\nHost: shop\r\nConnection: x-forwarded-for\r\nX-Forwarded-For: 1.1.1.1\r\n\r\n");
        var target = new Http2HeaderList();

        Http2ForwardedFields.Add(target, head, Client, "http"u8, default);

        Assert.Equal([("x-forwarded-for", "10.0.0.9"), ("x-forwarded-proto", "http")], Fields(target));
    }

    [Fact]
    public void Add_Http1Request_ChainOf40KiB_KeptWhole()
    {
        string chain = string.Join(", ", Enumerable.Range(0, 4000).Select(i => $"10.{i / 256}.{i % 256}.1"));
        Assert.True(chain.Length > 40 * 1024);
        Http1RequestHead head = Parse($"GET / HTTP/1.1\r\nHost: shop\r\nX-Forwarded-For: {chain}\r\n\r\n");
        var target = new Http2HeaderList();

        Http2ForwardedFields.Add(target, head, Client, "http"u8, "shop"u8);

        Assert.Equal(chain + ", 10.0.0.9", Fields(target)[0].Value);
    }

    [Fact]
    public void Add_Http2Request_EveryForwardedForFieldInOrder()
    {
        Http2HeaderList request = List(("x-forwarded-for", "1.1.1.1"), ("accept", "*/*"), ("x-forwarded-for", ""), ("x-forwarded-for", "2.2.2.2"));
        var target = new Http2HeaderList();

        Http2ForwardedFields.Add(target, request, Client, "https"u8, "shop"u8);

        Assert.Equal(
            [("x-forwarded-for", "1.1.1.1, 2.2.2.2, 10.0.0.9"), ("x-forwarded-proto", "https"), ("x-forwarded-host", "shop")],
            Fields(target));
    }

    [Fact]
    public void Add_Http2Request_OntoTheReceivedList_OnlyTheClientsFieldsCount()
    {
        Http2HeaderList request = List(("accept", "*/*"), ("x-forwarded-for", "1.1.1.1"));
        Http2HeaderList.Mark mark = request.GetMark();

        Http2ForwardedFields.Add(request, request, Client, "http"u8, default);

        Assert.Equal(
            [("accept", "*/*"), ("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "1.1.1.1, 10.0.0.9"), ("x-forwarded-proto", "http")],
            Fields(request));
        request.TruncateTo(mark);
        Assert.Equal([("accept", "*/*"), ("x-forwarded-for", "1.1.1.1")], Fields(request));
    }

    [Fact]
    public void ForwardedScheme_OfDownstream_HttpsOnlyForTls()
    {
        Assert.Equal("https"u8.ToArray(), ForwardedScheme.OfDownstream(tls: true).ToArray());
        Assert.Equal("http"u8.ToArray(), ForwardedScheme.OfDownstream(tls: false).ToArray());
    }

    private static Http1RequestHead Parse(string text)
    {
        var head = new Http1RequestHead();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text)));
        Assert.True(head.TryParse(ref reader, out Http1ParseError error), error.ToString());
        return head;
    }

    private static Http2HeaderList List(params (string Name, string Value)[] fields)
    {
        var list = new Http2HeaderList();
        list.Add(":method"u8, "GET"u8);
        list.Add(":scheme"u8, "http"u8);
        list.Add(":path"u8, "/"u8);
        foreach (var (name, value) in fields)
        {
            list.Add(Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value));
        }

        return list;
    }

    private static List<(string Name, string Value)> Fields(Http2HeaderList list)
    {
        var fields = new List<(string, string)>();
        for (var i = 0; i < list.Count; i++)
        {
            fields.Add((Encoding.ASCII.GetString(list.GetName(i)), Encoding.ASCII.GetString(list.GetValue(i))));
        }

        return fields;
    }
}
