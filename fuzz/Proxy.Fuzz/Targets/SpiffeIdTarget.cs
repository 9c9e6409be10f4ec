using System.Text;
using Proxy.Tls;

namespace Proxy.Fuzz.Targets;

/// <summary>
/// The SPIFFE ID parser (<see cref="SpiffeId"/>). An accepted ID must be its own canonical form: it parses again to an
/// equal ID, splits into scheme, trust domain and path, and <see cref="SpiffeId.Parse"/> agrees with
/// <see cref="SpiffeId.TryParse"/> (throwing only the documented <see cref="FormatException"/>).
/// </summary>
public static class SpiffeIdTarget
{
    public static FuzzTarget Target { get; } = new("spiffe-id", "SPIFFE ID parsing: accepted IDs are canonical; Parse agrees with TryParse", Run);

    public static void Run(ReadOnlySpan<byte> input)
    {
        string text = Encoding.UTF8.GetString(input);
        bool accepted = SpiffeId.TryParse(text, out SpiffeId? id, out string? error);
        FuzzFinding.Check(accepted == (error is null), "TryParse's result and error disagree");

        try
        {
            SpiffeId parsed = SpiffeId.Parse(text);
            FuzzFinding.Check(accepted && parsed.Equals(id), "Parse accepted what TryParse rejected");
        }
        catch (FormatException)
        {
            FuzzFinding.Check(!accepted, "Parse rejected what TryParse accepted");
        }

        if (id is null)
        {
            return;
        }

        FuzzFinding.Check(id.Value == text, "the ID is not the text it was parsed from");
        FuzzFinding.Check(id.Value == "spiffe://" + id.TrustDomain + id.Path, "scheme, trust domain and path do not make the ID");
        FuzzFinding.Check(id.TrustDomain.Length > 0 && (id.Path.Length == 0 || (id.Path[0] == '/' && !id.Path.EndsWith('/'))), "trust domain or path malformed");
        FuzzFinding.Check(!id.Path.Contains("//", StringComparison.Ordinal) && !id.Path.Contains("/./", StringComparison.Ordinal) && !id.Path.EndsWith("/.", StringComparison.Ordinal), "the path has empty or dot segments");
        FuzzFinding.Check(SpiffeId.TryParse(id.Value, out SpiffeId? again, out _) && again.Equals(id) && again.GetHashCode() == id.GetHashCode(), "the ID does not parse back to itself");
    }
}
