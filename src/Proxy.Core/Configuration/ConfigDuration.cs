using System.Globalization;

namespace Proxy.Configuration;

/// <summary>
/// Durations as written in configuration: a non-negative decimal number and a unit,
/// <c>us</c>, <c>ms</c>, <c>s</c>, <c>m</c> or <c>h</c> (<c>250ms</c>, <c>1.5s</c>, <c>1h</c>).
/// </summary>
public static class ConfigDuration
{
    /// <summary>Parses a duration; false (with a message) for a missing unit, a bad number or a negative value.</summary>
    public static bool TryParse(string text, out TimeSpan value, out string error)
    {
        value = default;
        int i = 0;
        while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
        {
            i++;
        }
        string number = text[..i];
        string unit = text[i..];
        long ticksPerUnit = unit switch
        {
            "us" => TimeSpan.TicksPerMicrosecond,
            "ms" => TimeSpan.TicksPerMillisecond,
            "s" => TimeSpan.TicksPerSecond,
            "m" => TimeSpan.TicksPerMinute,
            "h" => TimeSpan.TicksPerHour,
            _ => 0,
        };
        if (ticksPerUnit == 0)
        {
            error = $"'{text}' is not a duration (expected a number and a unit: us, ms, s, m, h, as in 250ms or 1.5s)";
            return false;
        }
        if (number.Length == 0 || !decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal amount))
        {
            error = $"'{text}' is not a duration (bad number '{number}')";
            return false;
        }
        decimal ticks = amount * ticksPerUnit;
        if (ticks > TimeSpan.MaxValue.Ticks)
        {
            error = $"'{text}' is too long a duration";
            return false;
        }
        value = TimeSpan.FromTicks((long)decimal.Round(ticks));
        error = "";
        return true;
    }

    /// <summary>Formats with the largest unit that represents the value exactly (<c>5s</c>, <c>1500ms</c>).</summary>
    public static string Format(TimeSpan value)
    {
        long ticks = value.Ticks;
        if (ticks == 0)
        {
            return "0s";
        }
        if (ticks % TimeSpan.TicksPerHour == 0)
        {
            return (ticks / TimeSpan.TicksPerHour).ToString(CultureInfo.InvariantCulture) + "h";
        }
        if (ticks % TimeSpan.TicksPerMinute == 0)
        {
            return (ticks / TimeSpan.TicksPerMinute).ToString(CultureInfo.InvariantCulture) + "m";
        }
        if (ticks % TimeSpan.TicksPerSecond == 0)
        {
            return (ticks / TimeSpan.TicksPerSecond).ToString(CultureInfo.InvariantCulture) + "s";
        }
        if (ticks % TimeSpan.TicksPerMillisecond == 0)
        {
            return (ticks / TimeSpan.TicksPerMillisecond).ToString(CultureInfo.InvariantCulture) + "ms";
        }
        // Sub-microsecond remainders are below any timer's resolution; microseconds keep it exact enough.
        return ((decimal)ticks / TimeSpan.TicksPerMicrosecond).ToString(CultureInfo.InvariantCulture) + "us";
    }
}
