namespace Proxy.Fuzz.Targets;

/// <summary>
/// An invariant a target checks did not hold (two segmentations disagree, a written head does not parse back, the
/// differential reference frames a message differently...). Thrown so that AFL++ saves the input as a crash.
/// </summary>
public sealed class FuzzFinding : Exception
{
    public FuzzFinding(string message)
        : base(message)
    {
    }

    /// <summary>Throws when <paramref name="condition"/> is false.</summary>
    public static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new FuzzFinding(message);
        }
    }
}
