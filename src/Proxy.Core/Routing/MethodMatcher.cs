using System.Text;

namespace Proxy.Routing;

/// <summary>Compiled method condition: any method, or one of a short list compared byte for byte (RFC 9110 section 9.1: case-sensitive).</summary>
internal readonly struct MethodMatcher
{
    private readonly byte[][]? _methods;

    private MethodMatcher(byte[][] methods) => _methods = methods;

    /// <summary>Matches every method.</summary>
    public static MethodMatcher Any => default;

    /// <summary>Matches any of <paramref name="methods"/> (already validated tokens, at least one).</summary>
    public static MethodMatcher OneOf(IReadOnlyList<string> methods)
    {
        var bytes = new byte[methods.Count][];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = Encoding.ASCII.GetBytes(methods[i]);
        }

        return new MethodMatcher(bytes);
    }

    /// <summary>Tests a request method.</summary>
    public bool Matches(ReadOnlySpan<byte> method)
    {
        byte[][]? methods = _methods;
        if (methods is null)
        {
            return true;
        }

        for (int i = 0; i < methods.Length; i++)
        {
            if (method.SequenceEqual(methods[i]))
            {
                return true;
            }
        }

        return false;
    }
}
