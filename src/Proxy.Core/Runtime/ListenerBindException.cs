namespace Proxy.Runtime;

/// <summary>One or more listeners could not bind their address; the configuration was not applied.</summary>
public sealed class ListenerBindException(IReadOnlyList<string> failures)
    : Exception(string.Join("; ", failures))
{
    public IReadOnlyList<string> Failures { get; } = failures;
}
