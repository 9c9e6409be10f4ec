using Proxy.LoadTests.Harness;

namespace Proxy.LoadTests.Scenarios;

/// <summary>
/// Picks the listener a scenario drives: the http (L7) listener when it forwards, else the tcp (L4)
/// one, which carries HTTP/1.1 too (one upstream connection per downstream connection). The choice
/// and its reason go into the scenario's notes.
/// </summary>
public static class ListenerChoice
{
    /// <summary>The URL to drive and whether it is the http listener.</summary>
    public static async Task<(Uri Url, bool Http)> ChooseAsync(ProxyFixture fixture, ScenarioResult result)
    {
        var (works, detail) = await FeatureProbes.HttpForwardingAsync(fixture).ConfigureAwait(false);
        if (works)
        {
            result.Notes.Add("driving the http (L7) listener");
            return (fixture.HttpUrl, true);
        }

        result.Notes.Add($"{detail}; driving the tcp (L4) listener instead");
        return (fixture.TcpUrl, false);
    }
}
