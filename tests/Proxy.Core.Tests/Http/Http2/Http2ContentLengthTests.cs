using System.Text;
using Proxy.Http.Http2;

namespace Proxy.Tests.Http.Http2;

public class Http2ContentLengthTests
{
    private static long Parse(params string[] values)
    {
        var list = new Http2HeaderList();
        list.Add(":status"u8, "200"u8);
        list.Add("content-type"u8, "text/plain"u8);
        foreach (var value in values)
        {
            list.Add("content-length"u8, Encoding.ASCII.GetBytes(value));
        }

        return Http2ContentLength.Parse(list);
    }

    [Fact]
    public void Parse_NoField_Absent() => Assert.Equal(Http2ContentLength.Absent, Parse());

    [Theory]
    [InlineData("0", 0)]
    [InlineData("42", 42)]
    [InlineData("007", 7)]
    [InlineData("42, 42", 42)]
    [InlineData("42,42 ,\t42", 42)]
    [InlineData("999999999999999999", 999999999999999999)]
    public void Parse_OneDecimalValue_ItsValue(string value, long expected) => Assert.Equal(expected, Parse(value));

    [Fact]
    public void Parse_RepeatedEqualFields_Folded() => Assert.Equal(5, Parse("5", "5"));

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("+5")]
    [InlineData("5.0")]
    [InlineData("5, 6")]
    [InlineData("5,")]
    [InlineData("1 2")]
    [InlineData("9999999999999999999")] // would overflow a long
    public void Parse_NotOneNonNegativeInteger_Invalid(string value) => Assert.Equal(Http2ContentLength.Invalid, Parse(value));

    [Fact]
    public void Parse_RepeatedDifferentFields_Invalid() => Assert.Equal(Http2ContentLength.Invalid, Parse("5", "6"));
}
