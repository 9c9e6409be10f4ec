namespace Proxy.LoadTests.Cli;

/// <summary>Bad command-line arguments; the message is shown with the usage text.</summary>
public sealed class UsageException(string message) : Exception(message);
