using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;

namespace Proxy.Routing;

/// <summary>
/// Runs a compiled regex over UTF-8 bytes without allocating: the bytes are decoded into a stack buffer (or a
/// pooled array above <see cref="StackDecodeLimit"/> bytes) and matched with <see cref="Regex.IsMatch(ReadOnlySpan{char})"/>.
/// The route compiler builds every regex with <see cref="RegexOptions.NonBacktracking"/>, so the match is linear in
/// the input: a hostile path, header or query value cannot make it run long (no ReDoS), and no timeout is needed.
/// </summary>
internal static class Utf8RegexMatch
{
    /// <summary>Inputs up to this many bytes are decoded on the stack.</summary>
    public const int StackDecodeLimit = 512;

    /// <summary>True when <paramref name="regex"/> matches <paramref name="utf8"/> (decoded; invalid bytes become U+FFFD).</summary>
    public static bool IsMatch(Regex regex, ReadOnlySpan<byte> utf8)
    {
        // UTF-8 never yields more chars than bytes, so utf8.Length chars always suffice.
        if (utf8.Length <= StackDecodeLimit)
        {
            Span<char> chars = stackalloc char[StackDecodeLimit];
            int count = Encoding.UTF8.GetChars(utf8, chars);
            return regex.IsMatch(chars.Slice(0, count));
        }

        return IsMatchPooled(regex, utf8);
    }

    private static bool IsMatchPooled(Regex regex, ReadOnlySpan<byte> utf8)
    {
        char[] rented = ArrayPool<char>.Shared.Rent(utf8.Length);
        try
        {
            int count = Encoding.UTF8.GetChars(utf8, rented);
            return regex.IsMatch(rented.AsSpan(0, count));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(rented);
        }
    }
}
