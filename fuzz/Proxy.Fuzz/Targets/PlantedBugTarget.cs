using System.Buffers;
using Proxy.Http.Http1;

namespace Proxy.Fuzz.Targets;

/// <summary>
/// A copy of the request head harness with a deliberately planted bug, used only to prove the fuzz setup works:
/// scripts/test.sh runs it for a short time from the committed http1-request corpus and fails unless AFL++ saves a
/// crash. The bug is a throw on a rare input shape none of the seeds has: an accepted request whose method token holds
/// a digit. It lives here, in the harness, and only when PROXY_FUZZ_PLANTED_BUG=1; the library is untouched.
/// </summary>
public static class PlantedBugTarget
{
    public static FuzzTarget Target { get; } = new("planted-bug", "the http1-request harness with a planted throw (set PROXY_FUZZ_PLANTED_BUG=1); the CI run must find it", Run);

    private static readonly bool Enabled = Environment.GetEnvironmentVariable("PROXY_FUZZ_PLANTED_BUG") == "1";

    public static void Run(ReadOnlySpan<byte> input)
    {
        Http1RequestTarget.Run(input);
        if (!Enabled)
        {
            return;
        }

        ReadOnlySpan<byte> data = input.IsEmpty ? input : input[1..];
        using var head = new Http1RequestHead(FuzzHttp1Limits.Pick(input.IsEmpty ? (byte)0 : input[0]));
        var reader = new SequenceReader<byte>(FuzzInput.Whole(data));
        if (head.TryParse(ref reader, out _) && head.MethodBytes.ContainsAnyInRange((byte)'0', (byte)'9'))
        {
            throw new InvalidOperationException("planted bug: a method token with a digit");
        }
    }
}
