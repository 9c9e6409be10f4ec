using System.Buffers;
using Proxy.Detection;

namespace Proxy.Fuzz.Targets;

/// <summary>
/// Protocol detection (<see cref="ProtocolDetector"/>, with the TLS ClientHello parser behind it) on the first bytes of
/// a connection. The verdict must not depend on how the bytes are split, and a prefix that already decides must decide
/// the same as the whole input, since detection stops at the first decisive read.
/// </summary>
public static class DetectionTarget
{
    public static FuzzTarget Target { get; } = new("detection", "protocol detection and ClientHello parsing: whole = split = every decisive prefix", Run);

    public static void Run(ReadOnlySpan<byte> input)
    {
        byte control = FuzzInput.TakeControl(ref input);
        string whole = Describe(ProtocolDetector.Classify(FuzzInput.Whole(input)));
        string split = Describe(ProtocolDetector.Classify(FuzzInput.Segmented(input, control)));
        FuzzFinding.Check(whole == split, $"whole and split input disagree: {whole} / {split}");

        int step = 1 + (control % 13);
        for (int length = 0; length < input.Length; length += step)
        {
            DetectionResult early = ProtocolDetector.Classify(FuzzInput.Whole(input[..length]));
            if (early.Protocol != DetectedProtocol.NeedMore)
            {
                FuzzFinding.Check(Describe(early) == whole, $"the first {length} bytes decide {Describe(early)}, all of them {whole}");
                break;
            }
        }
    }

    private static string Describe(DetectionResult result) =>
        $"{result.Protocol} {result.Reason} sni={result.ServerName ?? "-"} alpn={(result.Alpn is null ? "-" : string.Join(",", result.Alpn))}";
}
