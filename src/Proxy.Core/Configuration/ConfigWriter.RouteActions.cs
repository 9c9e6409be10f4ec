using System.Text.Json;

namespace Proxy.Configuration;

/// <summary>The actions of a route that answer without forwarding: redirect and direct_response.</summary>
public static partial class ConfigWriter
{
    private static void WriteLocalAction(Utf8JsonWriter w, RouteConfig route)
    {
        if (route.Redirect is { } redirect)
        {
            w.WriteStartObject("redirect");
            if (redirect.HttpsRedirect)
            {
                w.WriteBoolean("https_redirect", true);
            }
            OptionalString(w, "scheme", redirect.Scheme);
            OptionalString(w, "host", redirect.Host);
            if (redirect.Port is { } port)
            {
                w.WriteNumber("port", port);
            }
            OptionalString(w, "path", redirect.Path);
            OptionalString(w, "prefix_rewrite", redirect.PrefixRewrite);
            w.WriteBoolean("strip_query", redirect.StripQuery);
            w.WriteNumber("status", redirect.Status);
            w.WriteEndObject();
        }

        if (route.DirectResponse is { } direct)
        {
            w.WriteStartObject("direct_response");
            w.WriteNumber("status", direct.Status);
            if (direct.BodyFile is not null)
            {
                w.WriteString("body_file", direct.BodyFile);
            }
            else if (direct.Body is { } body)
            {
                w.WriteString("body", body.ToString());
            }
            OptionalString(w, "content_type", direct.ContentType);
            w.WriteEndObject();
        }
    }
}
