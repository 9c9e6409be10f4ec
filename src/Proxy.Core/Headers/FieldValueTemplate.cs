using System.Buffers;
using System.Text;
using Proxy.Forwarding;
using Proxy.Upstream;

namespace Proxy.Headers;

/// <summary>
/// A field value to add, compiled from the text in the file: literal bytes and Envoy's custom-header variables
/// (<c>%ROUTE_NAME%</c>, <c>%REQ(x-request-id)%</c>...), written per message straight into a <see cref="FieldAdditions"/>
/// buffer, so a value allocates nothing.
/// </summary>
public sealed class FieldValueTemplate
{
    /// <summary>The variables, by the name written between the percent signs (<c>REQ(...)</c> apart).</summary>
    private static readonly (string Name, TemplatePart Part, bool ResponseOnly)[] Variables =
    [
        ("DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", TemplatePart.ClientAddress, false),
        ("UPSTREAM_REMOTE_ADDRESS", TemplatePart.UpstreamAddress, true),
        ("DOWNSTREAM_PEER_URI_SAN", TemplatePart.PeerUri, false),
        ("ROUTE_NAME", TemplatePart.RouteName, false),
        ("PROTOCOL", TemplatePart.Protocol, false),
    ];

    private readonly (TemplatePart Part, byte[] Bytes)[] _parts;

    private FieldValueTemplate((TemplatePart, byte[])[] parts) => _parts = parts;

    /// <summary>The variable names a value may use, for messages and docs.</summary>
    public static string VariableList { get; } = string.Join(", ", Variables.Select(v => "%" + v.Name + "%")) + ", %REQ(field-name)%";

    /// <summary>
    /// Compiles a value. <paramref name="forResponse"/> allows the variables only a response knows. On a mistake returns
    /// null, with <paramref name="error"/> a sentence saying what to write instead.
    /// </summary>
    public static FieldValueTemplate? Parse(string text, bool forResponse, out string? error)
    {
        error = null;
        var parts = new List<(TemplatePart, byte[])>();
        var literal = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c is '\r' or '\n' or '\0')
            {
                error = "a field value cannot hold a line break or NUL";
                return null;
            }

            if (c != '%')
            {
                literal.Append(c);
                i++;
                continue;
            }

            var close = text.IndexOf('%', i + 1);
            if (close < 0)
            {
                error = $"the '%' at character {i + 1} opens a variable that is not closed; write %% for a percent sign";
                return null;
            }

            var name = text[(i + 1)..close];
            i = close + 1;
            if (name.Length == 0)
            {
                literal.Append('%');
                continue;
            }

            if (!TryVariable(name, forResponse, out var part, out var argument, out error))
            {
                return null;
            }

            if (literal.Length > 0)
            {
                parts.Add((TemplatePart.Literal, Encoding.UTF8.GetBytes(literal.ToString())));
                literal.Clear();
            }

            parts.Add((part, argument));
        }

        if (literal.Length > 0)
        {
            parts.Add((TemplatePart.Literal, Encoding.UTF8.GetBytes(literal.ToString())));
        }

        return new FieldValueTemplate(parts.ToArray());
    }

    private static bool TryVariable(string name, bool forResponse, out TemplatePart part, out byte[] argument, out string? error)
    {
        part = TemplatePart.Literal;
        argument = [];
        error = null;
        if (name.StartsWith("REQ(", StringComparison.Ordinal) && name.EndsWith(')'))
        {
            var field = name[4..^1].ToLowerInvariant();
            if (field.Length == 0 || field.Any(ch => ch <= ' ' || ch >= 127 || ch == ':' || ch == '(' || ch == ')'))
            {
                error = $"'%{name}%' needs a field name between the parentheses, such as %REQ(x-request-id)%";
                return false;
            }

            part = TemplatePart.RequestField;
            argument = Encoding.ASCII.GetBytes(field);
            return true;
        }

        foreach (var (known, knownPart, responseOnly) in Variables)
        {
            if (known == name)
            {
                if (responseOnly && !forResponse)
                {
                    error = $"%{name}% is known only once an endpoint has answered: use it in response_headers, not request_headers";
                    return false;
                }

                part = knownPart;
                return true;
            }
        }

        error = $"'%{name}%' is not a variable this proxy knows; use one of {VariableList}, or %% for a percent sign";
        return false;
    }

    /// <summary>Appends the value for this message to the field <paramref name="target"/> has open.</summary>
    /// <param name="endpoint">The endpoint that answered; null for a request.</param>
    internal void Render(HttpExchange exchange, Endpoint? endpoint, FieldAdditions target)
    {
        foreach (var (part, bytes) in _parts)
        {
            switch (part)
            {
                case TemplatePart.Literal:
                    target.AppendValue(bytes);
                    break;
                case TemplatePart.ClientAddress:
                    target.AppendValue(exchange.ClientAddressText);
                    break;
                case TemplatePart.UpstreamAddress:
                    if (endpoint is not null)
                    {
                        target.AppendValue(endpoint.AuthorityBytes);
                    }

                    break;
                case TemplatePart.RequestField:
                    if (bytes.AsSpan().SequenceEqual("x-request-id"u8))
                    {
                        target.AppendValue(exchange.RequestId);
                    }
                    else if (exchange.TryGetHeader(bytes, out var value))
                    {
                        target.AppendValue(value);
                    }

                    break;
                case TemplatePart.PeerUri:
                    AppendText(target, exchange.Peer?.Id?.Value);
                    break;
                case TemplatePart.RouteName:
                    AppendText(target, exchange.Route?.Name);
                    break;
                case TemplatePart.Protocol:
                    AppendText(target, exchange.Protocol);
                    break;
            }
        }
    }

    /// <summary>Appends a string as UTF-8 through a stack or pooled buffer (names and identities are short).</summary>
    private static void AppendText(FieldAdditions target, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        var size = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = null;
        var buffer = size <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(size));
        var written = Encoding.UTF8.GetBytes(text, buffer);
        target.AppendValue(buffer[..written]);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
