using System.Globalization;

namespace Proxy.LoadTests.Scenarios;

/// <summary>One pass/fail bound of a scenario, with what was measured against it.</summary>
/// <param name="Name">What is bounded, e.g. "p99".</param>
/// <param name="Bound">The bound as text, e.g. "<= 50 ms".</param>
/// <param name="Measured">The measured value as text.</param>
/// <param name="Verdict">Pass, Fail, or Skip when it cannot be evaluated yet.</param>
/// <param name="Note">Why it was skipped, or extra context.</param>
public sealed record Threshold(string Name, string Bound, string Measured, Verdict Verdict, string? Note = null)
{
    /// <summary>measured &lt;= bound.</summary>
    public static Threshold AtMost(string name, double measured, double bound, string unit, string format = "0.###") =>
        new(name, $"<= {Format(bound, format)}{unit}", Format(measured, format) + unit, measured <= bound ? Verdict.Pass : Verdict.Fail);

    /// <summary>measured &gt;= bound.</summary>
    public static Threshold AtLeast(string name, double measured, double bound, string unit, string format = "0.###") =>
        new(name, $">= {Format(bound, format)}{unit}", Format(measured, format) + unit, measured >= bound ? Verdict.Pass : Verdict.Fail);

    /// <summary>A bound that cannot be evaluated yet; the measurement is still reported.</summary>
    public static Threshold Skipped(string name, string bound, string measured, string reason) =>
        new(name, bound, measured, Verdict.Skip, reason);

    private static string Format(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
