namespace Proxy.Headers;

/// <summary>One field a <see cref="FieldChanges"/> adds: its lowercase name, its value, and whether only when absent.</summary>
internal readonly record struct FieldAddition(byte[] Name, FieldValueTemplate Value, bool OnlyIfAbsent);
