namespace Proxy.Host.Admin;

/// <summary>A complete admin response: status, content type and body.</summary>
public readonly record struct AdminResponse(int Status, string ContentType, string Body)
{
    public static AdminResponse Text(int status, string body) => new(status, "text/plain; charset=utf-8", body);

    public static AdminResponse Json(int status, string body) => new(status, "application/json", body);
}
