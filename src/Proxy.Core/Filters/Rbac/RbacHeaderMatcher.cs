using System.Text;

namespace Proxy.Filters.Rbac;

/// <summary>
/// A <c>header</c> permission or principal (Envoy's <c>route.v3.HeaderMatcher</c>) over the request: a field by its
/// lowercase name, or the pseudo-headers <c>:method</c>, <c>:authority</c> (the Host) and <c>:path</c> (the target as
/// sent, with its query). <paramref name="value"/> null is a presence test (<paramref name="present"/> says which
/// way). A missing field matches no value, or the empty value with <paramref name="missingAsEmpty"/>; the outcome is
/// negated with <paramref name="invert"/>. Without a request (a connection) it matches nothing.
/// </summary>
public sealed class RbacHeaderMatcher(string name, RbacStringMatcher? value, bool present, bool invert, bool missingAsEmpty) : RbacMatcher
{
    private readonly byte[] _lowerName = Encoding.ASCII.GetBytes(name.ToLowerInvariant());
    private readonly Pseudo _pseudo = name.ToLowerInvariant() switch
    {
        ":method" => Pseudo.Method,
        ":authority" or "host" => Pseudo.Authority,
        ":path" => Pseudo.Path,
        _ => Pseudo.None,
    };

    /// <summary>The pseudo-headers this matcher reads; any other name starting with ':' is refused by the translator.</summary>
    public static bool IsSupportedName(string name) => !name.StartsWith(':') || name is ":method" or ":authority" or ":path";

    private enum Pseudo
    {
        None,
        Method,
        Authority,
        Path,
    }

    public override bool ReadsRequest => true;

    public override bool Matches(scoped in RbacRequest request)
    {
        if (request.Exchange is not { } exchange)
        {
            return false;
        }

        bool found;
        ReadOnlySpan<byte> field;
        switch (_pseudo)
        {
            case Pseudo.Method:
                field = exchange.Method;
                found = true;
                break;
            case Pseudo.Authority:
                field = exchange.Host;
                found = !field.IsEmpty;
                break;
            case Pseudo.Path:
                field = exchange.Target;
                found = true;
                break;
            default:
                found = exchange.TryGetHeader(_lowerName, out field);
                break;
        }

        bool matched;
        if (value is null)
        {
            matched = found == present;
        }
        else if (!found && !missingAsEmpty)
        {
            matched = false;
        }
        else
        {
            matched = value.Matches(found ? field : default);
        }

        return matched != invert;
    }
}
