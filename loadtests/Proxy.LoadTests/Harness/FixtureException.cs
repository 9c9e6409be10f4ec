namespace Proxy.LoadTests.Harness;

/// <summary>A scenario's environment could not be set up (the proxy did not start, a config was rejected).</summary>
public sealed class FixtureException(string message) : Exception(message);
