namespace Proxy.LoadTests.Client;

/// <summary>The result of one request: its outcome, the status code if a response arrived, and whether its bytes left.</summary>
/// <param name="Outcome">How the request ended.</param>
/// <param name="Status">The response status code, or 0 when no response arrived.</param>
/// <param name="Sent">True once the request bytes were written to the socket.</param>
public readonly record struct RequestResult(RequestOutcome Outcome, int Status, bool Sent)
{
    /// <summary>Classifies a complete response by its status code.</summary>
    public static RequestResult FromStatus(int status) => new(
        status >= 500 ? RequestOutcome.Status5xx : status >= 400 ? RequestOutcome.Status4xx : RequestOutcome.Ok,
        status,
        Sent: true);
}
