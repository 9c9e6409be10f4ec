using Proxy.Routing;

namespace Proxy.Tests.Routing;

public class DomainPatternTests
{
    [Theory]
    [InlineData("api.example.com", DomainKind.Exact, "api.example.com", -1)]
    [InlineData("API.Example.com.", DomainKind.Exact, "api.example.com", -1)]
    [InlineData("api.example.com:8080", DomainKind.Exact, "api.example.com", 8080)]
    [InlineData("*.example.com", DomainKind.Suffix, ".example.com", -1)]
    [InlineData("*-api.example.com:443", DomainKind.Suffix, "-api.example.com", 443)]
    [InlineData("api.*", DomainKind.Prefix, "api.", -1)]
    [InlineData("api-*:80", DomainKind.Prefix, "api-", 80)]
    [InlineData("*", DomainKind.Any, "", -1)]
    [InlineData("[::1]", DomainKind.Exact, "[::1]", -1)]
    [InlineData("[::1]:8080", DomainKind.Exact, "[::1]", 8080)]
    [InlineData("10.0.0.1:80", DomainKind.Exact, "10.0.0.1", 80)]
    public void TryParse_ValidDomain_Parsed(string domain, DomainKind kind, string text, int port)
    {
        Assert.True(DomainPattern.TryParse(domain, out DomainPattern pattern, out string? problem), problem);
        Assert.Equal(new DomainPattern(kind, text, port), pattern);
    }

    [Theory]
    [InlineData("", "must not be empty")]
    [InlineData("a*b.example.com", "'*' may only begin a domain")]
    [InlineData("*.*.example.com", "'*' may only begin a domain")]
    [InlineData("**", "'*' may only begin a domain")]
    [InlineData("*:8080", "the catch-all '*' takes no port")]
    [InlineData("api.example.com:0", "the port after ':' must be a number from 1 to 65535")]
    [InlineData("api.example.com:http", "the port after ':' must be a number from 1 to 65535")]
    [InlineData("api.example.com:", "the port after ':' must be a number from 1 to 65535")]
    [InlineData("api..example.com", "must not have empty labels")]
    [InlineData("api example.com", "the character ' ' is not allowed")]
    [InlineData("bücher.example", "must be ASCII")]
    [InlineData("[::g]", "an IPv6 address is written in brackets")]
    public void TryParse_BadDomain_SaysWhatToFix(string domain, string expected)
    {
        Assert.False(DomainPattern.TryParse(domain, out _, out string? problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("API.example.com.", "api.example.com")]
    [InlineData("*.Example.com:80", "*.example.com:80")]
    [InlineData("Web-*", "web-*")]
    public void ToString_CanonicalSpelling(string domain, string expected)
    {
        Assert.True(DomainPattern.TryParse(domain, out DomainPattern pattern, out _));
        Assert.Equal(expected, pattern.ToString());
    }
}
