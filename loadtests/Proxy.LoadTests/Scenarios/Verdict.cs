namespace Proxy.LoadTests.Scenarios;

/// <summary>How a scenario or one of its thresholds ended.</summary>
public enum Verdict
{
    /// <summary>Measured and within bounds.</summary>
    Pass,

    /// <summary>Measured and out of bounds (or the scenario could not be run because of the proxy).</summary>
    Fail,

    /// <summary>Not measurable yet, because the proxy lacks the feature; the reason says which.</summary>
    Skip,
}
