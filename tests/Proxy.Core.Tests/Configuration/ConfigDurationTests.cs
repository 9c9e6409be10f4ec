using Proxy.Configuration;

namespace Proxy.Tests.Configuration;

public class ConfigDurationTests
{
    [Theory]
    [InlineData("250ms", 250 * TimeSpan.TicksPerMillisecond)]
    [InlineData("5s", 5 * TimeSpan.TicksPerSecond)]
    [InlineData("1m", TimeSpan.TicksPerMinute)]
    [InlineData("1h", TimeSpan.TicksPerHour)]
    [InlineData("1.5s", 15 * TimeSpan.TicksPerSecond / 10)]
    [InlineData("0s", 0)]
    [InlineData("100us", 100 * TimeSpan.TicksPerMicrosecond)]
    [InlineData("0.5ms", TimeSpan.TicksPerMillisecond / 2)]
    public void TryParse_Valid_ReturnsTicks(string text, long ticks)
    {
        Assert.True(ConfigDuration.TryParse(text, out var value, out _));
        Assert.Equal(ticks, value.Ticks);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("s")]
    [InlineData("5 s")]
    [InlineData("-1s")]
    [InlineData("1.2.3s")]
    [InlineData("5sec")]
    [InlineData("1d")]
    [InlineData("99999999999999h")]
    public void TryParse_Invalid_ReturnsFalseWithMessage(string text)
    {
        Assert.False(ConfigDuration.TryParse(text, out _, out string error));
        Assert.NotEmpty(error);
    }

    [Theory]
    [InlineData("1h", "1h")]
    [InlineData("90m", "90m")]
    [InlineData("120s", "2m")]
    [InlineData("1.5s", "1500ms")]
    [InlineData("0.25ms", "250us")]
    [InlineData("0s", "0s")]
    public void Format_Value_UsesLargestExactUnit(string text, string expected)
    {
        Assert.True(ConfigDuration.TryParse(text, out var value, out _));
        Assert.Equal(expected, ConfigDuration.Format(value));
        Assert.True(ConfigDuration.TryParse(ConfigDuration.Format(value), out var again, out _));
        Assert.Equal(value, again);
    }
}
