using System.Text;
using Proxy.LoadTests.Client;

namespace Proxy.LoadTests.Cli;

/// <summary>
/// <c>selftest</c>: checks the client's parsers the way the project tests parsers (tests/ is not
/// this project's to edit): every prefix of a valid response is "need more", and every split into
/// two segments gives the same result as the whole. Exit 0 when all checks pass.
/// </summary>
public static class SelfTestCommand
{
    private static readonly string[] Responses =
    [
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Upstream: u0\r\n\r\nhello",
        "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 3\r\nx-proxy-error: no-healthy-upstream\r\n\r\nbad",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n",
    ];

    /// <summary>Runs the checks and prints one line per failure and a total.</summary>
    public static int Run(TextWriter stdout)
    {
        int checks = 0, failures = 0;
        void Check(bool ok, string what)
        {
            checks++;
            if (!ok)
            {
                failures++;
                stdout.WriteLine("FAIL " + what);
            }
        }

        foreach (var text in Responses)
        {
            byte[] bytes = Encoding.ASCII.GetBytes(text);
            Check(Http1ResponseParser.TryParseHead(bytes, out var whole) == ParseStatus.Done, $"whole head of {Escape(text)}");
            for (int n = 0; n < whole.Length; n++)
            {
                Check(Http1ResponseParser.TryParseHead(bytes.AsSpan(0, n), out _) == ParseStatus.NeedMore, $"prefix {n} of {Escape(text)}");
            }

            if (!whole.Chunked)
            {
                continue;
            }

            byte[] body = bytes[whole.Length..];
            var full = new ChunkedBodySkipper();
            Check(full.Consume(body, out int used) == ParseStatus.Done && used == body.Length, "whole chunked body");
            for (int n = 0; n < body.Length; n++)
            {
                var prefix = new ChunkedBodySkipper();
                Check(prefix.Consume(body.AsSpan(0, n), out int got) == ParseStatus.NeedMore && got == n, $"chunked prefix {n}");

                // Every two-segment split: the second segment completes the body exactly.
                var split = prefix;
                Check(split.Consume(body.AsSpan(n), out int rest) == ParseStatus.Done && rest == body.Length - n, $"chunked split at {n}");
            }
        }

        Check(Http1ResponseParser.TryParseHead("HTTP/1.1 2x0 OK\r\n\r\n"u8, out _) == ParseStatus.Invalid, "bad status code");
        Check(Http1ResponseParser.TryParseHead("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"u8, out _) == ParseStatus.Invalid, "negative length");
        var bad = new ChunkedBodySkipper();
        Check(bad.Consume("zz\r\n"u8, out _) == ParseStatus.Invalid, "bad chunk size");

        stdout.WriteLine($"selftest: {checks - failures} passed, {failures} failed");
        return failures == 0 ? 0 : 1;
    }

    private static string Escape(string text)
    {
        string escaped = text.Replace("\r\n", "\\r\\n", StringComparison.Ordinal);
        return escaped[..Math.Min(40, escaped.Length)];
    }
}
