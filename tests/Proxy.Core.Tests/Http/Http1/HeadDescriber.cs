using System.Text;
using Proxy.Http.Http1;

namespace Proxy.Tests.Http.Http1;

/// <summary>Renders everything a parse produced as text, so split and whole parses can be compared.</summary>
internal static class HeadDescriber
{
    public static string Describe(Http1RequestHead h)
    {
        var sb = new StringBuilder();
        sb.Append($"{h.Method}|{TestInput.Text(h.MethodBytes)}|{TestInput.Text(h.Target)}|{h.TargetForm}|{h.Version}|");
        sb.Append($"path={TestInput.Text(h.PathAndQuery)}|auth={TestInput.Text(h.Authority)}|host={TestInput.Text(h.Host)}|");
        sb.Append($"exp={h.ExpectContinue}|up={h.IsUpgradeRequest}|tr={h.AcceptsTrailers}|");
        AppendCommon(sb, h);
        sb.Append($"framing={h.BodyFraming}");
        return sb.ToString();
    }

    public static string Describe(Http1ResponseHead h)
    {
        var sb = new StringBuilder();
        sb.Append($"{h.StatusCode}|{TestInput.Text(h.ReasonPhrase)}|{h.Version}|");
        AppendCommon(sb, h);
        return sb.ToString();
    }

    private static void AppendCommon(StringBuilder sb, Http1Head h)
    {
        sb.Append($"len={h.HeadLength}|cl={h.ContentLength}|te={h.HasTransferEncoding}|chunked={h.IsChunked}|ka={h.KeepAlive}|");
        for (int i = 0; i < h.Fields.Length; i++)
        {
            sb.Append($"[{TestInput.Text(h.GetName(i))}={TestInput.Text(h.GetValue(i))};{h.Fields[i].Kind};{h.Fields[i].IsHopByHop}]");
        }
    }
}
