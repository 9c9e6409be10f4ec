using Proxy.LoadTests.Load;

namespace Proxy.LoadTests.Scenarios;

/// <summary>What a scenario found: its verdict and reason, thresholds, main load result, measurements and notes.</summary>
public sealed class ScenarioResult(string name, string description)
{
    private string? _skipReason;
    private string? _failReason;

    /// <summary>The scenario's name.</summary>
    public string Name { get; } = name;

    /// <summary>The scenario's description.</summary>
    public string Description { get; } = description;

    /// <summary>The bounds and what was measured against them.</summary>
    public List<Threshold> Thresholds { get; } = [];

    /// <summary>Other measured values worth reporting (name, value).</summary>
    public List<KeyValuePair<string, string>> Measurements { get; } = [];

    /// <summary>Free-form remarks (e.g. which listener was driven and why).</summary>
    public List<string> Notes { get; } = [];

    /// <summary>The main load run, when there was one.</summary>
    public LoadResult? Load { get; set; }

    /// <summary>Wall time of the scenario.</summary>
    public TimeSpan Elapsed { get; set; }

    /// <summary>Pass unless a threshold failed (Fail) or the scenario or a threshold was skipped (Skip).</summary>
    public Verdict Verdict =>
        _failReason is not null || Thresholds.Exists(t => t.Verdict == Verdict.Fail) ? Verdict.Fail
        : _skipReason is not null || Thresholds.Exists(t => t.Verdict == Verdict.Skip) ? Verdict.Skip
        : Verdict.Pass;

    /// <summary>Why it ended the way it did, in one line.</summary>
    public string Reason
    {
        get
        {
            if (_failReason is not null)
            {
                return _failReason;
            }

            var failed = Thresholds.FindAll(t => t.Verdict == Verdict.Fail);
            if (failed.Count > 0)
            {
                return "out of bounds: " + string.Join("; ", failed.Select(t => $"{t.Name} {t.Measured} (bound {t.Bound})"));
            }

            if (_skipReason is not null)
            {
                return _skipReason;
            }

            var skipped = Thresholds.Find(t => t.Verdict == Verdict.Skip);
            return skipped is not null ? $"{skipped.Name} not evaluated: {skipped.Note}" : "all thresholds met";
        }
    }

    /// <summary>Marks the scenario skipped (the feature it needs is missing).</summary>
    public ScenarioResult Skip(string reason)
    {
        _skipReason = reason;
        return this;
    }

    /// <summary>Marks the scenario failed for a reason outside its thresholds (e.g. the proxy did not start).</summary>
    public ScenarioResult Fail(string reason)
    {
        _failReason = reason;
        return this;
    }

    /// <summary>Adds a measurement.</summary>
    public void Measure(string name, string value) => Measurements.Add(new(name, value));

    /// <summary>Adds the standard thresholds of a load run: p99, error rate and zero lost requests.</summary>
    public void AddLoadThresholds(LoadResult load, double p99BoundMs, double maxErrorRate, string prefix = "")
    {
        Thresholds.Add(Threshold.AtMost(prefix + "p99", load.P99Ms, p99BoundMs, " ms"));
        Thresholds.Add(Threshold.AtMost(prefix + "error rate", load.ErrorRate * 100, maxErrorRate * 100, " %"));
        Thresholds.Add(Threshold.AtMost(prefix + "lost", load.Lost, 0, ""));
    }
}
