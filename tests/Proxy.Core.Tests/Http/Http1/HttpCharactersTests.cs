using System.Buffers;
using Proxy.Http.Http1;
using Xunit;

namespace Proxy.Core.Tests.Http.Http1;

public class HttpCharactersTests
{
    /// <summary>
    /// The hand-vectorised field-value check must agree with the general searcher over the same class, for every
    /// byte value at every position of values shorter than, equal to and longer than one vector (the overlapping
    /// last load included).
    /// </summary>
    [Fact]
    public void IsFieldValue_AgreesWithTheSearchValuesClass_ForEveryByteAtEveryPosition()
    {
        foreach (int length in new[] { 0, 1, 2, 15, 16, 17, 31, 32, 33, 47, 70 })
        {
            byte[] value = new byte[length];
            Array.Fill(value, (byte)'a');
            Assert.True(HttpCharacters.IsFieldValue(value));
            for (int position = 0; position < length; position++)
            {
                for (int b = 0; b < 256; b++)
                {
                    value[position] = (byte)b;
                    bool expected = !value.AsSpan().ContainsAnyExcept(HttpCharacters.FieldValue);
                    Assert.True(expected == HttpCharacters.IsFieldValue(value), $"length {length}, byte 0x{b:X2} at {position}");
                }

                value[position] = (byte)'a';
            }
        }
    }

    [Theory]
    [InlineData("text/html; charset=utf-8", true)]
    [InlineData("tab\tinside", true)]
    [InlineData("obs-text \u00e9", true)]
    [InlineData("cr\rinside", false)]
    [InlineData("lf\ninside", false)]
    [InlineData("nul\0inside", false)]
    [InlineData("del\u007finside", false)]
    public void IsFieldValue_RejectsControlsAndDel(string text, bool valid) =>
        Assert.Equal(valid, HttpCharacters.IsFieldValue(System.Text.Encoding.Latin1.GetBytes(text)));
}
