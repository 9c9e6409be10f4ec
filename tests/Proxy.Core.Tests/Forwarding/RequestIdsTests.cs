using System.Text;
using Proxy.Forwarding;

namespace Proxy.Tests.Forwarding;

public class RequestIdsTests
{
    [Fact]
    public void Write_ProducesVersion4UuidShape_AndDistinctValues()
    {
        var seen = new HashSet<string>();
        var buffer = new byte[RequestIds.Length];
        for (var i = 0; i < 1000; i++)
        {
            RequestIds.Write(buffer);
            var text = Encoding.ASCII.GetString(buffer);
            Assert.True(Guid.TryParseExact(text, "D", out _), text);
            Assert.Equal('4', text[14]);
            Assert.Contains(text[19], "89ab");
            Assert.True(seen.Add(text));
        }
    }
}
