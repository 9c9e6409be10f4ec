namespace Proxy.Configuration;

/// <summary>One key of the node's metadata and its string value.</summary>
public sealed record XdsMetadataEntry(string Key, string Value);
