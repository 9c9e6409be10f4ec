using Proxy.Inbound;

namespace Proxy.Fuzz.Targets;

/// <summary>
/// The authorization path normalizer (<see cref="AuthorizationPath"/>). A normalized path must be a fixed point (so
/// no second decoding, by the app or another proxy, can make it name another resource than the one the rule judged),
/// start with '/', hold no "//", no "." or ".." segment, and no escape of an unreserved character.
/// </summary>
public static class AuthorizationPathTarget
{
    public static FuzzTarget Target { get; } = new("authz-path", "authorization path normalization: idempotent, no dot segments, no empty segments", Run);

    public static void Run(ReadOnlySpan<byte> input)
    {
        string? normalized = AuthorizationPath.Normalize(input);
        if (normalized is null)
        {
            return;
        }

        FuzzFinding.Check(normalized.StartsWith('/'), $"'{normalized}' does not start with '/'");
        FuzzFinding.Check(!normalized.Contains("//", StringComparison.Ordinal), $"'{normalized}' has an empty segment");
        string[] segments = normalized.Split('/');
        foreach (string segment in segments)
        {
            FuzzFinding.Check(segment is not ("." or ".."), $"'{normalized}' has a dot segment");
        }

        for (int i = normalized.IndexOf('%'); i >= 0; i = normalized.IndexOf('%', i + 1))
        {
            FuzzFinding.Check(i + 2 < normalized.Length && Uri.IsHexDigit(normalized[i + 1]) && Uri.IsHexDigit(normalized[i + 2]), $"'{normalized}' has a broken escape");
            int value = Convert.ToInt32(normalized.Substring(i + 1, 2), 16);
            FuzzFinding.Check(!(char.IsAsciiLetterOrDigit((char)value) || value is '-' or '.' or '_' or '~'), $"'{normalized}' still escapes an unreserved character");
        }

        byte[] bytes = new byte[normalized.Length];
        for (int i = 0; i < normalized.Length; i++)
        {
            bytes[i] = (byte)normalized[i];
        }

        string? again = AuthorizationPath.Normalize(bytes);
        FuzzFinding.Check(again == normalized, $"normalizing '{normalized}' again gives '{again}'");
    }
}
