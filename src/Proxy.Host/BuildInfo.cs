namespace Proxy.Host;

/// <summary>
/// What this binary is: its version and the commit it was built from. <see cref="Commit"/> is a
/// constant written at build time (Proxy.Host.csproj, target WriteSourceCommit: the SourceCommit
/// property that scripts/publish.sh passes, else <c>git rev-parse</c>, else "unknown"), so native AOT
/// needs no reflection over attributes to read it.
/// </summary>
public static partial class BuildInfo
{
    /// <summary>The assembly version, major.minor.patch.</summary>
    public static string Version { get; } = typeof(BuildInfo).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>One line for <c>proxy version</c> and logs: <c>proxy 1.0.0 (commit 0123456789ab)</c>.</summary>
    public static string Describe() => $"proxy {Version} (commit {Commit})";
}
