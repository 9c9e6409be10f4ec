using Envoy.Config.Core.V3;
using Google.Protobuf.Collections;
using Proxy.Configuration;
using Proxy.Headers;

namespace Proxy.Xds.Translation;

/// <summary>
/// Envoy's <c>*_headers_to_add</c> / <c>*_headers_to_remove</c> (of a RouteConfiguration, a VirtualHost or a Route)
/// as the proxy's <see cref="HeaderChangesConfig"/>: <c>APPEND_IF_EXISTS_OR_ADD</c> is <c>add</c>,
/// <c>OVERWRITE_IF_EXISTS_OR_ADD</c> is <c>set</c>, <c>ADD_IF_ABSENT</c> is <c>set_if_absent</c>. Values are the
/// proxy's field templates (Envoy's <c>%COMMAND%</c> operators that it knows); anything else is a rejection.
/// </summary>
internal static class HeaderChangesTranslator
{
    // Fields the proxy writes itself (framing, hop-by-hop) or sets by a route key (host): as the file's binder refuses them.
    private static readonly string[] ProtectedFields = ["host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "te", "upgrade"];

    /// <summary>The changes, or null when there are none. <paramref name="where"/> names the resource and its part, for the sentence.</summary>
    public static HeaderChangesConfig? Translate(RepeatedField<HeaderValueOption> toAdd, RepeatedField<string> toRemove, bool forResponse, string where, string addField, string removeField)
    {
        if (toAdd.Count == 0 && toRemove.Count == 0)
        {
            return null;
        }

        List<HeaderValueConfig> add = [], set = [], setIfAbsent = [];
        for (var i = 0; i < toAdd.Count; i++)
        {
            var option = toAdd[i];
            var field = $"{addField}[{i}]";
            var name = FieldName(option.Header?.Key ?? "", where, field);
            var value = option.Header!.Value.Length > 0 || option.Header.RawValue.IsEmpty ? option.Header.Value : option.Header.RawValue.ToStringUtf8();
            if (FieldValueTemplate.Parse(value, forResponse, out var error) is null)
            {
                throw new XdsRejectedException($"{where}: {field}: the value of '{name}': {error}");
            }

            var entry = new HeaderValueConfig { Name = name, Value = value };
#pragma warning disable CS0612 // append is deprecated, and still what older servers send
            var action = option.Append is { } append && option.AppendAction == HeaderValueOption.Types.HeaderAppendAction.AppendIfExistsOrAdd
                ? (append ? HeaderValueOption.Types.HeaderAppendAction.AppendIfExistsOrAdd : HeaderValueOption.Types.HeaderAppendAction.OverwriteIfExistsOrAdd)
                : option.AppendAction;
#pragma warning restore CS0612
            switch (action)
            {
                case HeaderValueOption.Types.HeaderAppendAction.AppendIfExistsOrAdd:
                    add.Add(entry);
                    break;
                case HeaderValueOption.Types.HeaderAppendAction.OverwriteIfExistsOrAdd:
                    set.Add(entry);
                    break;
                case HeaderValueOption.Types.HeaderAppendAction.AddIfAbsent:
                    setIfAbsent.Add(entry);
                    break;
                default:
                    throw new XdsRejectedException($"{where}: {field}.append_action: {action} (change the field only when present) is not supported; use OVERWRITE_IF_EXISTS_OR_ADD, ADD_IF_ABSENT or APPEND_IF_EXISTS_OR_ADD");
            }
        }

        var remove = new List<string>(toRemove.Count);
        for (var i = 0; i < toRemove.Count; i++)
        {
            var name = FieldName(toRemove[i], where, $"{removeField}[{i}]");
            if (add.Exists(f => f.Name == name) || set.Exists(f => f.Name == name) || setIfAbsent.Exists(f => f.Name == name))
            {
                throw new XdsRejectedException($"{where}: {removeField}[{i}]: '{name}' is both removed and added; to replace the field, add it with OVERWRITE_IF_EXISTS_OR_ADD only");
            }

            remove.Add(name);
        }

        return new HeaderChangesConfig
        {
            Add = ConfigList<HeaderValueConfig>.From(add),
            Set = ConfigList<HeaderValueConfig>.From(set),
            SetIfAbsent = ConfigList<HeaderValueConfig>.From(setIfAbsent),
            Remove = ConfigList<string>.From(remove),
        };
    }

    private static string FieldName(string name, string where, string field)
    {
        if (!XdsText.IsToken(name))
        {
            throw new XdsRejectedException($"{where}: {field}: '{name}' is not a field name (pseudo-headers such as :path cannot be changed)");
        }

        var lower = name.ToLowerInvariant();
        if (Array.IndexOf(ProtectedFields, lower) >= 0)
        {
            throw new XdsRejectedException(lower == "host"
                ? $"{where}: {field}: 'host' cannot be changed by a header rule; use the route's host_rewrite_literal or auto_host_rewrite"
                : $"{where}: {field}: '{lower}' cannot be changed by a header rule: the proxy writes it itself");
        }

        return lower;
    }
}
