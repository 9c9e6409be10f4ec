namespace Proxy.Http.Http2.HPack;

/// <summary>A name and value pair held by the static table (RFC 7541 Appendix A).</summary>
public readonly struct HPackHeaderField
{
    public HPackHeaderField(byte[] name, byte[] value)
    {
        Name = name;
        Value = value;
    }

    /// <summary>The lowercase field name.</summary>
    public byte[] Name { get; }

    /// <summary>The field value; empty for name-only entries.</summary>
    public byte[] Value { get; }

    /// <summary>The entry size of RFC 7541 4.1: name length + value length + 32.</summary>
    public int Size => Name.Length + Value.Length + HPackDynamicTable.EntryOverhead;
}
