using System.Text;
using Proxy.Observability.Tracing;
using Proxy.Tests.LoadBalancing;

namespace Proxy.Tests.Observability;

public class TraceContextTests
{
    private const string Valid = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    private static byte[] B(string s) => Encoding.ASCII.GetBytes(s);

    [Fact]
    public void TryParseTraceParent_Valid_RoundTrips()
    {
        Assert.True(W3CTraceContext.TryParseTraceParent(B(Valid), out var context));
        Assert.Equal(new TraceId(0x0af7651916cd43dd, 0x8448eb211c80319c), context.TraceId);
        Assert.Equal(new SpanId(0xb7ad6b7169203331), context.SpanId);
        Assert.True(context.Sampled);
        var output = new byte[W3CTraceContext.TraceParentLength];
        Assert.Equal(55, W3CTraceContext.FormatTraceParent(context, output));
        Assert.Equal(Valid, Encoding.ASCII.GetString(output));
    }

    [Theory]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", false)]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03", true)]
    [InlineData("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra", true)]
    public void TryParseTraceParent_FlagsAndFutureVersions(string value, bool sampled)
    {
        Assert.True(W3CTraceContext.TryParseTraceParent(B(value), out var context));
        Assert.Equal(sampled, context.Sampled);
    }

    [Theory]
    [InlineData("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
    [InlineData("00-00000000000000000000000000000000-b7ad6b7169203331-01")]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01")]
    [InlineData("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01")]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-")]
    [InlineData("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x")]
    [InlineData("00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g")]
    public void TryParseTraceParent_Invalid_False(string value)
    {
        Assert.False(W3CTraceContext.TryParseTraceParent(B(value), out _));
    }

    [Fact]
    public void TryParseTraceParent_EveryPrefix_False()
    {
        var bytes = B(Valid);
        for (int i = 0; i < bytes.Length; i++)
        {
            Assert.False(W3CTraceContext.TryParseTraceParent(bytes.AsSpan(0, i), out _));
        }
    }

    [Theory]
    [InlineData("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", true)]
    [InlineData("", true)]
    [InlineData("a@b=1, ,c=2", true)]
    [InlineData("Rojo=1", false)]
    [InlineData("rojo=", false)]
    [InlineData("rojo=a,b", false)]
    [InlineData("rojo=a=b", false)]
    public void IsValidTraceState_Grammar(string value, bool valid)
    {
        Assert.Equal(valid, W3CTraceContext.IsValidTraceState(B(value)));
    }

    [Fact]
    public void IsValidTraceState_Over32Members_False()
    {
        var value = string.Join(",", Enumerable.Range(0, 33).Select(i => $"k{i}=v"));
        Assert.False(W3CTraceContext.IsValidTraceState(B(value)));
    }

    [Theory]
    [InlineData("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90", true, true)]
    [InlineData("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0", true, false)]
    [InlineData("80F198EE56343BA864FE8B2A57D3EFF7-E457B5A2E4D86BD1-d", true, true)]
    [InlineData("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1", true, false)]
    [InlineData("64fe8b2a57d3eff7-e457b5a2e4d86bd1-1", true, true)]
    [InlineData("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-x", false, false)]
    [InlineData("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86b", false, false)]
    [InlineData("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-zz", false, false)]
    public void TryParseSingle_Forms(string value, bool ok, bool sampled)
    {
        Assert.Equal(ok, B3Propagation.TryParseSingle(B(value), out var context, out _));
        if (ok)
        {
            Assert.Equal(sampled, context.Sampled);
            Assert.Equal(new SpanId(0xe457b5a2e4d86bd1), context.SpanId);
        }
    }

    [Fact]
    public void TryParseSingle_64BitTraceId_WidenedWithZeros()
    {
        Assert.True(B3Propagation.TryParseSingle(B("64fe8b2a57d3eff7-e457b5a2e4d86bd1"), out var context, out _));
        Assert.Equal(new TraceId(0, 0x64fe8b2a57d3eff7), context.TraceId);
    }

    [Theory]
    [InlineData("0", SamplingDecision.NotSampled)]
    [InlineData("1", SamplingDecision.Sampled)]
    [InlineData("d", SamplingDecision.Sampled)]
    public void TryParseSingle_DecisionOnly_NoContext(string value, SamplingDecision expected)
    {
        Assert.False(B3Propagation.TryParseSingle(B(value), out _, out var decision));
        Assert.Equal(expected, decision);
    }

    [Fact]
    public void FormatSingle_WithAndWithoutParent_ParsesBack()
    {
        var context = new SpanContext(new TraceId(1, 2), new SpanId(3), true);
        var buffer = new byte[B3Propagation.MaxSingleLength];
        int length = B3Propagation.FormatSingle(context, new SpanId(4), buffer);
        Assert.Equal("00000000000000010000000000000002-0000000000000003-1-0000000000000004", Encoding.ASCII.GetString(buffer, 0, length));
        Assert.True(B3Propagation.TryParseSingle(buffer.AsSpan(0, length), out var parsed, out _));
        Assert.Equal(context, parsed);
        length = B3Propagation.FormatSingle(context with { Sampled = false }, default, buffer);
        Assert.Equal("00000000000000010000000000000002-0000000000000003-0", Encoding.ASCII.GetString(buffer, 0, length));
    }

    [Theory]
    [InlineData("1", "", true)]
    [InlineData("true", "", true)]
    [InlineData("0", "", false)]
    [InlineData("0", "1", true)]
    [InlineData("", "", false)]
    public void TryParseMulti_SampledAndFlags(string sampled, string flags, bool expected)
    {
        Assert.True(B3Propagation.TryParseMulti(B("463ac35c9f6413ad48485a3953bb6124"), B("a2fb4a1d1a96d312"), B(sampled), B(flags), out var context, out _));
        Assert.Equal(expected, context.Sampled);
        Assert.Equal(new TraceId(0x463ac35c9f6413ad, 0x48485a3953bb6124), context.TraceId);
        var hex = new byte[32];
        B3Propagation.FormatTraceId(context, hex);
        Assert.Equal("463ac35c9f6413ad48485a3953bb6124", Encoding.ASCII.GetString(hex));
        Assert.False(B3Propagation.TryParseMulti(B("463ac35c9f6413ad48485a3953bb6124"), default, B(sampled), B(flags), out _, out _));
    }

    [Fact]
    public void SpanContextGenerator_ScriptedRandom_NonZeroIdsAndChildKeepsTrace()
    {
        var generator = new SpanContextGenerator(new ScriptedRandom(7, 0, 8, 9, 0, 10));
        var root = generator.NewRoot(sampled: true);
        Assert.Equal(new TraceId(7, 8), root.TraceId);
        Assert.Equal(new SpanId(9), root.SpanId);
        var child = generator.NewChild(root);
        Assert.Equal(root.TraceId, child.TraceId);
        Assert.Equal(new SpanId(10), child.SpanId);
        Assert.True(child.Sampled);
        Assert.False(generator.NewChild(root with { Sampled = false }).Sampled);
    }
}
