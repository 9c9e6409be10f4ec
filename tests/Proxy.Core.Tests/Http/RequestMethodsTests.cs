using Proxy.Http;

namespace Proxy.Tests.Http;

public class RequestMethodsTests
{
    [Theory]
    [InlineData("GET", RequestMethod.Get, true, true)]
    [InlineData("HEAD", RequestMethod.Head, true, true)]
    [InlineData("OPTIONS", RequestMethod.Options, true, true)]
    [InlineData("TRACE", RequestMethod.Trace, true, true)]
    [InlineData("PUT", RequestMethod.Put, false, true)]
    [InlineData("DELETE", RequestMethod.Delete, false, true)]
    [InlineData("POST", RequestMethod.Post, false, false)]
    [InlineData("PATCH", RequestMethod.Patch, false, false)]
    [InlineData("CONNECT", RequestMethod.Connect, false, false)]
    [InlineData("get", RequestMethod.Other, false, false)]
    [InlineData("PURGE", RequestMethod.Other, false, false)]
    public void Parse_Token_MethodSafetyIdempotency(string token, RequestMethod expected, bool safe, bool idempotent)
    {
        RequestMethod method = RequestMethods.Parse(System.Text.Encoding.ASCII.GetBytes(token));
        Assert.Equal(expected, method);
        Assert.Equal(safe, method.IsSafe());
        Assert.Equal(idempotent, method.IsIdempotent());
        if (method != RequestMethod.Other) Assert.True(RequestMethods.GetName(method).SequenceEqual(System.Text.Encoding.ASCII.GetBytes(token)));
    }

    [Theory]
    [InlineData("Connection", KnownHeader.Connection, true)]
    [InlineData("keep-alive", KnownHeader.KeepAlive, true)]
    [InlineData("TE", KnownHeader.TE, true)]
    [InlineData("Trailer", KnownHeader.Trailer, true)]
    [InlineData("TRANSFER-ENCODING", KnownHeader.TransferEncoding, true)]
    [InlineData("Proxy-Connection", KnownHeader.ProxyConnection, true)]
    [InlineData("Proxy-Authenticate", KnownHeader.ProxyAuthenticate, true)]
    [InlineData("Proxy-Authorization", KnownHeader.ProxyAuthorization, true)]
    [InlineData("Upgrade", KnownHeader.Upgrade, true)]
    [InlineData("Host", KnownHeader.Host, false)]
    [InlineData("Content-Length", KnownHeader.ContentLength, false)]
    [InlineData("X-Forwarded-For", KnownHeader.XForwardedFor, false)]
    [InlineData("x-request-id", KnownHeader.XRequestId, false)]
    [InlineData("Accept", KnownHeader.None, false)]
    public void Classify_Name_KindAndHopByHop(string name, KnownHeader kind, bool hopByHop)
    {
        byte[] bytes = System.Text.Encoding.ASCII.GetBytes(name);
        Assert.Equal(kind, KnownHeaders.Classify(bytes));
        Assert.Equal(hopByHop, HopByHop.IsAlwaysHopByHop(bytes));
    }

    [Fact]
    public void ReasonPhrases_KnownAndUnknown()
    {
        Assert.True(ReasonPhrases.Get(431).SequenceEqual("Request Header Fields Too Large"u8));
        Assert.True(ReasonPhrases.Get(299).IsEmpty);
    }
}
