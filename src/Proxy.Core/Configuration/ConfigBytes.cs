namespace Proxy.Configuration;

/// <summary>Immutable bytes with value equality, so a config record holding them compares by content.</summary>
public sealed class ConfigBytes : IEquatable<ConfigBytes>
{
    private readonly byte[] _bytes;

    public ConfigBytes(byte[] bytes) => _bytes = bytes;

    /// <summary>The bytes (never to be written to).</summary>
    public ReadOnlyMemory<byte> Memory => _bytes;

    public int Length => _bytes.Length;

    public bool Equals(ConfigBytes? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    public override bool Equals(object? obj) => obj is ConfigBytes other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(_bytes);
        return hash.ToHashCode();
    }

    /// <summary>The bytes as UTF-8 text (for an inline body written back).</summary>
    public override string ToString() => System.Text.Encoding.UTF8.GetString(_bytes);
}
