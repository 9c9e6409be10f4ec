using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Proxy.Configuration.Syntax;

/// <summary>
/// Turns YAML (and JSON, which YAML's flow style accepts) into a <see cref="ConfigNode"/> tree by
/// walking YamlDotNet's low-level parser events. The event parser uses no reflection, unlike
/// YamlDotNet's object deserializer, so this stays native-AOT clean.
/// </summary>
internal static class ConfigDocumentReader
{
    // Deeper documents are certainly mistakes (or attacks); the limit also bounds recursion.
    private const int MaxDepth = 64;

    /// <summary>
    /// Parses <paramref name="text"/>; returns the root node, or null after adding the syntax error
    /// (YAML parsing cannot resume after one) or when the document is empty.
    /// </summary>
    public static ConfigNode? Read(string text, string source, List<ConfigError> errors)
    {
        var parser = new GuardedParser(new StringReader(text));
        var anchors = new Dictionary<string, ConfigNode>(StringComparer.Ordinal);
        try
        {
            parser.MoveNext(); // StreamStart
            parser.MoveNext();
            if (parser.Current is not DocumentStart)
            {
                errors.Add(new ConfigError(source, 1, 1, "", "the configuration is empty"));
                return null;
            }
            parser.MoveNext();
            var root = ReadNode(parser, anchors, source, errors, 0);
            parser.MoveNext(); // DocumentEnd
            parser.MoveNext();
            if (parser.Current is DocumentStart next)
            {
                errors.Add(new ConfigError(source, Line(next.Start), Column(next.Start), "",
                    "only one YAML document is allowed per file"));
            }
            if (root is ConfigScalar { IsNull: true })
            {
                errors.Add(new ConfigError(source, root.Line, root.Column, "", "the configuration is empty"));
                return null;
            }
            return root;
        }
        catch (YamlException e)
        {
            errors.Add(new ConfigError(source, Line(e.Start), Column(e.Start), "", "syntax error: " + StripMarks(e.Message)));
            return null;
        }
    }

    /// <summary>Reads the node whose first event is current; leaves its last event current.</summary>
    private static ConfigNode ReadNode(IParser parser, Dictionary<string, ConfigNode> anchors, string source, List<ConfigError> errors, int depth)
    {
        var current = parser.Current!;
        if (depth > MaxDepth)
        {
            throw new YamlException(current.Start, current.End, $"nesting deeper than {MaxDepth} levels");
        }
        ConfigNode node;
        AnchorName anchor;
        switch (current)
        {
            case Scalar scalar:
                node = new ConfigScalar(scalar.Value, scalar.Style != ScalarStyle.Plain, Line(scalar.Start), Column(scalar.Start));
                anchor = scalar.Anchor;
                break;
            case AnchorAlias alias:
                if (!anchors.TryGetValue(alias.Value.Value, out var target))
                {
                    throw new YamlException(alias.Start, alias.End, $"unknown anchor '{alias.Value.Value}'");
                }
                return target;
            case SequenceStart start:
            {
                var items = new List<ConfigNode>();
                while (parser.MoveNext() && parser.Current is not SequenceEnd)
                {
                    items.Add(ReadNode(parser, anchors, source, errors, depth + 1));
                }
                node = new ConfigSequence(items, Line(start.Start), Column(start.Start));
                anchor = start.Anchor;
                break;
            }
            case MappingStart start:
            {
                var entries = new List<KeyValuePair<ConfigScalar, ConfigNode>>();
                while (parser.MoveNext() && parser.Current is not MappingEnd)
                {
                    var keyNode = ReadNode(parser, anchors, source, errors, depth + 1);
                    parser.MoveNext();
                    var value = ReadNode(parser, anchors, source, errors, depth + 1);
                    if (keyNode is not ConfigScalar key)
                    {
                        errors.Add(new ConfigError(source, keyNode.Line, keyNode.Column, "", "mapping keys must be scalars"));
                        continue;
                    }
                    if (ContainsKey(entries, key.Value))
                    {
                        errors.Add(new ConfigError(source, key.Line, key.Column, "", $"duplicate key '{key.Value}'"));
                        continue;
                    }
                    entries.Add(new KeyValuePair<ConfigScalar, ConfigNode>(key, value));
                }
                node = new ConfigMapping(entries, Line(start.Start), Column(start.Start));
                anchor = start.Anchor;
                break;
            }
            default:
                throw new YamlException(current.Start, current.End, "unexpected parser event");
        }
        if (!anchor.IsEmpty)
        {
            anchors[anchor.Value] = node;
        }
        return node;
    }

    private static bool ContainsKey(List<KeyValuePair<ConfigScalar, ConfigNode>> entries, string key)
    {
        foreach (var entry in entries)
        {
            if (entry.Key.Value == key)
            {
                return true;
            }
        }
        return false;
    }

    // YamlException.Message starts with "(Line: 1, Col: 2, Idx: 1) - (Line: ...): "; our error
    // already carries the location, so keep only the description.
    private static string StripMarks(string message)
    {
        if (message.StartsWith('('))
        {
            int i = message.IndexOf("): ", StringComparison.Ordinal);
            if (i >= 0)
            {
                return message[(i + 3)..];
            }
        }
        return message;
    }

    private static int Line(in Mark mark) => (int)Math.Max(1, mark.Line);

    private static int Column(in Mark mark) => (int)Math.Max(1, mark.Column);
}
