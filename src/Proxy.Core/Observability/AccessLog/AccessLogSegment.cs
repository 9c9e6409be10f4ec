namespace Proxy.Observability.AccessLog;

/// <summary>One part of a compiled access-log format: literal bytes, or an operator with its optional fallback and length limit.</summary>
/// <param name="Operator">What to write.</param>
/// <param name="Literal">The bytes of a <see cref="AccessLogOperator.Literal"/>; null otherwise.</param>
/// <param name="Fallback">For <c>%REQ(X?Y)%</c>: the operator written when the first value is empty.</param>
/// <param name="MaxLength">The <c>:N</c> limit of <c>%REQ(...)%</c>, in bytes; 0 for none.</param>
public readonly record struct AccessLogSegment(AccessLogOperator Operator, byte[]? Literal, AccessLogOperator? Fallback = null, int MaxLength = 0);
