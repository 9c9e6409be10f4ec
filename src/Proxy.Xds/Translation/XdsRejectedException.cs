namespace Proxy.Xds.Translation;

/// <summary>
/// A resource the proxy cannot honour as sent. Its message is the NACK's <c>error_detail</c>: a sentence naming the
/// resource and the field, for the operator of the management server.
/// </summary>
public sealed class XdsRejectedException(string message) : Exception(message);
