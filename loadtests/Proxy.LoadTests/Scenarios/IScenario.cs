namespace Proxy.LoadTests.Scenarios;

/// <summary>One load scenario: sets up what it needs, drives load, and judges the result against its thresholds.</summary>
public interface IScenario
{
    /// <summary>The name used by --only and in reports (kebab-case).</summary>
    string Name { get; }

    /// <summary>One sentence on what it does.</summary>
    string Description { get; }

    /// <summary>Runs the scenario; processes and servers it starts are stopped before it returns.</summary>
    Task<ScenarioResult> RunAsync(ScenarioContext context);
}
