using System.Text;

namespace Proxy.Headers;

/// <summary>
/// A fixed set of lowercase field names (the fields a route removes or replaces), asked about each field of a message
/// as it is copied. Names are bucketed by length, so most fields are ruled out by one array read, and the rest compared
/// case-insensitively in place: no allocation, no hashing of the candidate.
/// </summary>
public sealed class FieldNameSet
{
    private readonly byte[][]?[] _byLength;

    public FieldNameSet(IEnumerable<string> lowerNames)
    {
        var names = lowerNames.Distinct(StringComparer.Ordinal).Select(Encoding.ASCII.GetBytes).ToArray();
        Names = names.Select(n => Encoding.ASCII.GetString(n)).ToArray();
        var longest = names.Length == 0 ? 0 : names.Max(n => n.Length);
        _byLength = new byte[][]?[longest + 1];
        foreach (var group in names.GroupBy(n => n.Length))
        {
            _byLength[group.Key] = group.ToArray();
        }
    }

    /// <summary>The names, as given (lowercase).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>True when <paramref name="name"/> (any case) is in the set.</summary>
    public bool Contains(ReadOnlySpan<byte> name)
    {
        if (name.Length >= _byLength.Length || _byLength[name.Length] is not { } candidates)
        {
            return false;
        }

        foreach (var candidate in candidates)
        {
            if (Ascii.EqualsIgnoreCase(name, candidate))
            {
                return true;
            }
        }

        return false;
    }
}
