namespace Proxy.LoadTests.Scenarios;

/// <summary>What every scenario gets: the mode, the proxy binary, a scratch directory and a log.</summary>
public sealed class ScenarioContext
{
    /// <summary>True for the quick suite (smaller counts and durations; under about 3 minutes in all).</summary>
    public required bool Short { get; init; }

    /// <summary>Path of the published proxy binary.</summary>
    public required string ProxyBinary { get; init; }

    /// <summary>A scratch directory for config files and certificates.</summary>
    public required string WorkDir { get; init; }

    /// <summary>Progress lines go here.</summary>
    public required TextWriter Log { get; init; }

    /// <summary>Ctrl-C.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Picks the short or the full value.</summary>
    public T Pick<T>(T shortValue, T fullValue) => Short ? shortValue : fullValue;

    /// <summary>A fresh subdirectory of <see cref="WorkDir"/> for one scenario.</summary>
    public string Directory(string name)
    {
        var path = Path.Combine(WorkDir, name);
        System.IO.Directory.CreateDirectory(path);
        return path;
    }
}
