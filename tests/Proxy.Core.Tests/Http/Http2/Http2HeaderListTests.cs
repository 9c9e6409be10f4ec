using System.Text;
using Proxy.Http.Http2;

namespace Proxy.Tests.Http.Http2;

public class Http2HeaderListTests
{
    private static Http2HeaderList List(params (string Name, string Value)[] fields)
    {
        var list = new Http2HeaderList();
        foreach (var (name, value) in fields)
        {
            list.Add(Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value));
        }

        return list;
    }

    private static readonly (string, string)[] Request = [(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/x")];

    [Fact]
    public void Validate_WellFormedRequest_True()
    {
        var list = List([.. Request, ("te", "trailers"), ("x-a", "1")]);
        Assert.True(list.Validate(Http2HeaderBlockKind.Request));
        Assert.Equal("GET"u8.ToArray(), list.Method.ToArray());
        Assert.True(list.TryGetValue("x-a"u8, out var value));
        Assert.Equal("1"u8.ToArray(), value.ToArray());
    }

    [Theory]
    [InlineData("connection", "close")]
    [InlineData("transfer-encoding", "chunked")]
    [InlineData("upgrade", "h2c")]
    [InlineData("keep-alive", "1")]
    [InlineData("te", "gzip")]
    [InlineData("X-Upper", "1")]
    [InlineData("x-bad", "a\r\nb")]
    [InlineData("x-space", " padded")]
    public void Validate_ForbiddenField_False(string name, string value) =>
        Assert.False(List([.. Request, (name, value)]).Validate(Http2HeaderBlockKind.Request));

    [Fact]
    public void Validate_PseudoAfterRegular_False() =>
        Assert.False(List((":method", "GET"), ("x-a", "1"), (":scheme", "http"), (":path", "/")).Validate(Http2HeaderBlockKind.Request));

    [Fact]
    public void Validate_DuplicateOrUnknownPseudo_False()
    {
        Assert.False(List([.. Request, (":path", "/y")]).Validate(Http2HeaderBlockKind.Request));
        Assert.False(List([.. Request, (":foo", "1")]).Validate(Http2HeaderBlockKind.Request));
    }

    [Fact]
    public void Validate_MissingPathOrStatusInRequest_False()
    {
        Assert.False(List((":method", "GET"), (":scheme", "http")).Validate(Http2HeaderBlockKind.Request));
        Assert.False(List([.. Request, (":status", "200")]).Validate(Http2HeaderBlockKind.Request));
    }

    [Fact]
    public void Validate_Connect_AuthorityOnly()
    {
        Assert.True(List((":method", "CONNECT"), (":authority", "h:443")).Validate(Http2HeaderBlockKind.Request));
        Assert.False(List((":method", "CONNECT"), (":authority", "h:443"), (":path", "/")).Validate(Http2HeaderBlockKind.Request));
    }

    [Fact]
    public void Validate_ResponseAndTrailers()
    {
        Assert.True(List((":status", "200"), ("content-type", "text/plain")).Validate(Http2HeaderBlockKind.Response));
        Assert.Equal(200, List((":status", "200")).Status);
        Assert.False(List(("content-type", "text/plain")).Validate(Http2HeaderBlockKind.Response));
        Assert.True(List(("grpc-status", "0")).Validate(Http2HeaderBlockKind.Trailers));
        Assert.False(List((":status", "200")).Validate(Http2HeaderBlockKind.Trailers));
    }

    [Fact]
    public void AddLowercase_MixedCaseName_Lowercased()
    {
        var list = new Http2HeaderList();
        list.AddStatus(404);
        list.AddLowercase("Content-Type"u8, "text/plain"u8);
        Assert.Equal("404"u8.ToArray(), list.StatusBytes.ToArray());
        Assert.Equal("content-type"u8.ToArray(), list.GetName(0).ToArray());
        Assert.True(list.Validate(Http2HeaderBlockKind.Response));
    }

    [Fact]
    public void AppendToLastValue_PiecesPastTheBuffer_OneValueSizeCounted()
    {
        var list = List([.. Request, ("x-a", "1")]);
        long size = list.Size;
        var piece = new string('9', 300); // past the list's first buffer: the append grows it
        list.Add("x-forwarded-for"u8, "10.0.0.1"u8);
        list.AppendToLastValue(", "u8);
        list.AppendToLastValue(Encoding.ASCII.GetBytes(piece));
        Assert.Equal(2, list.Count);
        Assert.Equal("x-forwarded-for", Encoding.ASCII.GetString(list.GetName(1)));
        Assert.Equal("10.0.0.1, " + piece, Encoding.ASCII.GetString(list.GetValue(1)));
        Assert.Equal("1", Encoding.ASCII.GetString(list.GetValue(0)));
        Assert.Equal(size + "x-forwarded-for".Length + 10 + piece.Length + 32, list.Size);
        Assert.True(list.Validate(Http2HeaderBlockKind.Request));
    }

    [Fact]
    public void AppendToLastValue_NoRegularFieldLast_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => new Http2HeaderList().AppendToLastValue("x"u8));
        var list = List((":method", "GET"), ("x-a", "1"));
        list.Add(":path"u8, "/"u8); // misplaced, but its value now ends the buffer
        Assert.Throws<InvalidOperationException>(() => list.AppendToLastValue("x"u8));
    }
}
