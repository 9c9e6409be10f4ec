using System.Net;
using System.Text;
using Proxy.LoadBalancing;
using Proxy.Upstream;

namespace Proxy.Tests.LoadBalancing;

/// <summary>Endpoint sets, hash keys and tallies shared by the picker tests.</summary>
internal static class TestEndpoints
{
    public static Endpoint[] WithWeights(params int[] weights)
    {
        var endpoints = new Endpoint[weights.Length];
        for (int i = 0; i < weights.Length; i++)
        {
            endpoints[i] = Create(i, weights[i]);
        }

        return endpoints;
    }

    public static Endpoint[] Equal(int count) => WithWeights(Enumerable.Repeat(1, count).ToArray());

    public static Endpoint Create(int number, int weight = 1) =>
        new($"10.0.{number / 250}.{number % 250 + 1}:8080", new IPEndPoint(IPAddress.Loopback, 10000 + number), weight);

    public static ulong[] Keys(int count)
    {
        var keys = new ulong[count];
        for (int i = 0; i < count; i++)
        {
            keys[i] = PickerHash.HashKey(Encoding.UTF8.GetBytes($"user-{i}"));
        }

        return keys;
    }

    /// <summary>Picks <paramref name="picks"/> times and counts how often each endpoint was returned.</summary>
    public static Dictionary<Endpoint, int> Tally(IEndpointPicker picker, int picks)
    {
        var counts = new Dictionary<Endpoint, int>();
        for (int i = 0; i < picks; i++)
        {
            Endpoint? endpoint = picker.Pick(PickContext.None);
            Assert.NotNull(endpoint);
            counts[endpoint] = counts.GetValueOrDefault(endpoint) + 1;
        }

        return counts;
    }

    /// <summary>The authority each key maps to.</summary>
    public static string[] Map(IEndpointPicker picker, ulong[] keys)
    {
        var owners = new string[keys.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            owners[i] = picker.Pick(new PickContext(keys[i]))!.Authority;
        }

        return owners;
    }
}
