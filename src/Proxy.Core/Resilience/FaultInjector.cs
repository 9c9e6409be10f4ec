using Proxy.Configuration;
using Proxy.LoadBalancing;

namespace Proxy.Resilience;

/// <summary>
/// Fault injection of one route (the <c>fault</c> section): delays and/or aborts a sampled percentage of the
/// requests that match its headers. A request may also ask for a fault itself, when the route's
/// <c>fault</c> section has <c>header_control: true</c> (<see cref="HeaderControl"/>; routes without it ignore the headers):
/// <list type="bullet">
/// <item><c>x-proxy-fault-delay: MS</c> delays it by MS milliseconds (an integer, at most <see cref="MaxHeaderDelayMs"/>).</item>
/// <item><c>x-proxy-fault-abort: STATUS</c> answers it with STATUS (an integer 200-599).</item>
/// </list>
/// A header request always applies (no sampling) and replaces the configured delay or abort; a malformed value is
/// ignored. Both headers are forwarded like any other (HTTP/1.1 and HTTP/2 clients alike). Immutable; allocation-free.
/// </summary>
public sealed class FaultInjector
{
    /// <summary>Header asking for a delay, in milliseconds.</summary>
    public static ReadOnlySpan<byte> DelayHeader => "x-proxy-fault-delay"u8;

    /// <summary>Header asking for an abort with a status.</summary>
    public static ReadOnlySpan<byte> AbortHeader => "x-proxy-fault-abort"u8;

    /// <summary>Longest delay a header may ask for (one minute).</summary>
    public const int MaxHeaderDelayMs = 60_000;

    // Percentages are sampled at 0.01 % resolution.
    private const int PercentScale = 100;

    private readonly IRandomSource _random;
    private readonly TimeSpan _delay;
    private readonly int _delayPerTenThousand;
    private readonly int _abortStatus;
    private readonly int _abortPerTenThousand;

    public FaultInjector(TimeSpan delay, double delayPercent, int abortStatus, double abortPercent, IRandomSource? random = null, bool headerControl = false)
    {
        HeaderControl = headerControl;
        _delay = delay;
        _delayPerTenThousand = ToPerTenThousand(delay > TimeSpan.Zero ? delayPercent : 0);
        _abortStatus = abortStatus;
        _abortPerTenThousand = ToPerTenThousand(abortStatus != 0 ? abortPercent : 0);
        _random = random ?? SharedRandomSource.Instance;
    }

    /// <summary>The injector of a route's <c>fault</c> section (header matching stays with the route's compiled matchers).</summary>
    public static FaultInjector FromConfig(FaultConfig config, IRandomSource? random = null) =>
        new(config.Delay?.Duration ?? TimeSpan.Zero, config.Delay?.Percent ?? 0, config.Abort?.Status ?? 0, config.Abort?.Percent ?? 0, random, config.HeaderControl);

    /// <summary>Whether requests may ask for a fault with <see cref="DelayHeader"/> and <see cref="AbortHeader"/> (<c>header_control</c>).</summary>
    public bool HeaderControl { get; }

    /// <summary>
    /// Chooses the fault of one request. <paramref name="headersMatch"/> is whether the request matches the
    /// section's <c>headers</c> (true when there are none); without a match nothing is injected. The header
    /// values are empty when the request has no such header.
    /// </summary>
    public FaultDecision Decide(bool headersMatch, ReadOnlySpan<byte> delayHeader, ReadOnlySpan<byte> abortHeader)
    {
        if (!headersMatch)
        {
            return FaultDecision.None;
        }

        TimeSpan delay = TimeSpan.Zero;
        if (!delayHeader.IsEmpty && TryParseInt(delayHeader, MaxHeaderDelayMs, out int delayMs))
        {
            delay = TimeSpan.FromMilliseconds(delayMs);
        }
        else if (Sample(_delayPerTenThousand))
        {
            delay = _delay;
        }

        int abort = 0;
        if (!abortHeader.IsEmpty && TryParseInt(abortHeader, 599, out int status) && status >= 200)
        {
            abort = status;
        }
        else if (Sample(_abortPerTenThousand))
        {
            abort = _abortStatus;
        }

        return new FaultDecision(delay, abort);
    }

    private bool Sample(int perTenThousand) =>
        perTenThousand >= 100 * PercentScale || (perTenThousand > 0 && _random.Next(100 * PercentScale) < perTenThousand);

    internal static int ToPerTenThousand(double percent) =>
        double.IsNaN(percent) ? 0 : (int)Math.Round(Math.Clamp(percent, 0, 100) * PercentScale);

    private static bool TryParseInt(ReadOnlySpan<byte> text, int max, out int value)
    {
        value = 0;
        text = text.Trim(" \t"u8);
        if (text.IsEmpty || text.Length > 9)
        {
            return false;
        }

        foreach (byte b in text)
        {
            if (!char.IsAsciiDigit((char)b))
            {
                return false;
            }

            value = (value * 10) + (b - '0');
        }

        return value <= max;
    }
}
