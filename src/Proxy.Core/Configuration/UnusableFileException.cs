namespace Proxy.Configuration;

/// <summary>
/// A file the configuration names (certificate, key, CA bundle) cannot be used. Its <see cref="Exception.Message"/>
/// is a sentence written for the user, naming the file and what to fix, never the runtime's text.
/// </summary>
public sealed class UnusableFileException(string message, Exception? inner = null) : Exception(message, inner);
