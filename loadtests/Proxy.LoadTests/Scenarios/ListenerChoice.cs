using Proxy.LoadTests.Client;
using Proxy.LoadTests.Harness;

namespace Proxy.LoadTests.Scenarios;

/// <summary>
/// Picks the listener a scenario drives: the http (L7) listener when it forwards, else the tcp (L4)
/// one, which carries HTTP/1.1 too (one upstream connection per downstream connection). The choice
/// and its reason go into the scenario's notes.
/// </summary>
public static class ListenerChoice
{
    /// <summary>The URL to drive and whether it is the http listener; the chosen path is warmed up before returning.</summary>
    public static async Task<(Uri Url, bool Http)> ChooseAsync(ProxyFixture fixture, ScenarioResult result)
    {
        var (works, detail) = await FeatureProbes.HttpForwardingAsync(fixture).ConfigureAwait(false);
        Uri url;
        if (works)
        {
            result.Notes.Add("driving the http (L7) listener");
            url = fixture.HttpUrl;
        }
        else
        {
            result.Notes.Add($"{detail}; driving the tcp (L4) listener instead");
            url = fixture.TcpUrl;
        }

        await WarmUpAsync(new Http1ConnectionFactory(url)).ConfigureAwait(false);
        return (url, works);
    }

    /// <summary>A few hundred requests, not measured, so first-use costs (JIT, pools, page faults) stay out of the results.</summary>
    public static async Task WarmUpAsync(Http1ConnectionFactory factory)
    {
        var tasks = new Task[8];
        for (int w = 0; w < tasks.Length; w++)
        {
            tasks[w] = Task.Run(async () =>
            {
                using var connection = factory.Create();
                for (int i = 0; i < 50; i++)
                {
                    await connection.SendAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
                }
            });
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
    }
}
