namespace Proxy.Fuzz.Targets;

/// <summary>One fuzz target: a name for the command line and corpus folder, and the code that feeds it one input.</summary>
/// <remarks>
/// A target catches only what the code under test documents for bad input (most of it returns an error value and
/// throws nothing); any other exception escapes and AFL++ saves the input as a crash. A target may also throw
/// <see cref="FuzzFinding"/> when an invariant it checks does not hold.
/// </remarks>
public sealed class FuzzTarget
{
    public FuzzTarget(string name, string summary, FuzzAction run)
    {
        Name = name;
        Summary = summary;
        Run = run;
    }

    /// <summary>The name used on the command line and for fuzz/corpus/NAME and fuzz/dict/NAME.dict.</summary>
    public string Name { get; }

    /// <summary>What the target feeds and checks, one line.</summary>
    public string Summary { get; }

    /// <summary>Feeds one input.</summary>
    public FuzzAction Run { get; }
}

/// <summary>Feeds one fuzz input to the code under test.</summary>
public delegate void FuzzAction(ReadOnlySpan<byte> input);
