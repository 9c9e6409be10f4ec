using System.Text;
using Proxy.Configuration;
using Proxy.Forwarding;
using Proxy.Upstream;

namespace Proxy.Headers;

/// <summary>
/// The field changes one route makes to its requests, or to its responses, with every level that applies (the
/// route's, then the listener's) merged once at load: the names whose fields are dropped from the message as it is
/// copied, and the fields added after. Per message this renders the additions into a reused buffer; nothing else.
/// </summary>
/// <remarks>
/// Envoy applies the levels from the most specific to the least (route, virtual host, route configuration), each one
/// removing and then adding, so a less specific level has the last word (<c>most_specific_header_mutations_wins</c>
/// false, its default). The merge below plays that out at load time.
/// </remarks>
public sealed class FieldChanges
{
    private readonly FieldAddition[] _additions;

    private FieldChanges(FieldNameSet removed, FieldAddition[] additions)
    {
        Removed = removed;
        _additions = additions;
    }

    /// <summary>Names of the message's own fields that are not passed on (removed, or replaced by a <c>set</c>).</summary>
    public FieldNameSet Removed { get; }

    /// <summary>
    /// Merges the levels, most specific first (null levels skipped), with <paramref name="alsoRemoved"/> (fields a route
    /// action replaces, such as <c>x-envoy-original-path</c>); null when nothing changes.
    /// </summary>
    public static FieldChanges? Compile(IEnumerable<HeaderChangesConfig?> levels, bool forResponse, IEnumerable<string>? alsoRemoved = null)
    {
        var removed = new List<string>(alsoRemoved ?? []);
        var additions = new List<(string Name, FieldValueTemplate Value, bool OnlyIfAbsent)>();
        foreach (var level in levels)
        {
            if (level is null)
            {
                continue;
            }

            foreach (var name in level.Remove)
            {
                additions.RemoveAll(a => a.Name == name);
                removed.Add(name);
            }

            foreach (var field in level.Set)
            {
                additions.RemoveAll(a => a.Name == field.Name);
                removed.Add(field.Name);
                additions.Add((field.Name, Template(field, forResponse), false));
            }

            foreach (var field in level.Add)
            {
                additions.Add((field.Name, Template(field, forResponse), false));
            }

            foreach (var field in level.SetIfAbsent)
            {
                // Present already when an earlier level adds it; sure to be absent when the message's own is dropped.
                if (!additions.Exists(a => a.Name == field.Name))
                {
                    additions.Add((field.Name, Template(field, forResponse), OnlyIfAbsent: !removed.Contains(field.Name)));
                }
            }
        }

        if (removed.Count == 0 && additions.Count == 0)
        {
            return null;
        }

        return new FieldChanges(
            new FieldNameSet(removed),
            additions.Select(a => new FieldAddition(Encoding.ASCII.GetBytes(a.Name), a.Value, a.OnlyIfAbsent)).ToArray());
    }

    /// <summary>
    /// Renders the additions for one message into <paramref name="target"/>; <paramref name="message"/> tells which
    /// fields it already has, <paramref name="endpoint"/> is the endpoint that answered (responses).
    /// </summary>
    internal void AddTo<TMessage>(FieldAdditions target, HttpExchange exchange, Endpoint? endpoint, scoped ref TMessage message)
        where TMessage : IFieldLookup, allows ref struct
    {
        foreach (var addition in _additions)
        {
            if (addition.OnlyIfAbsent && message.Contains(addition.Name))
            {
                continue;
            }

            target.BeginField(addition.Name);
            addition.Value.Render(exchange, endpoint, target);
            target.EndField();
        }
    }

    private static FieldValueTemplate Template(HeaderValueConfig field, bool forResponse) =>
        FieldValueTemplate.Parse(field.Value, forResponse, out var error)
        ?? throw new InvalidOperationException($"The value of '{field.Name}' was not validated: {error}");
}
