using Proxy.LoadBalancing;
using Proxy.Upstream;

namespace Proxy.Tests.LoadBalancing;

/// <summary>Stability and balance properties shared by ring_hash and maglev.</summary>
public class ConsistentHashTests
{
    private const int KeyCount = 50_000;
    private static readonly ulong[] s_keys = TestEndpoints.Keys(KeyCount);

    public static TheoryData<string> Policies() => new() { RingHashPicker.PolicyName, MaglevPicker.PolicyName };

    private static IEndpointPicker Create(string policy, Endpoint[] endpoints) =>
        PickerRegistry.Create(policy, endpoints, PickerOptions.Default);

    private static int Moved(string[] before, string[] after)
    {
        int moved = 0;
        for (int i = 0; i < before.Length; i++)
        {
            moved += before[i] == after[i] ? 0 : 1;
        }

        return moved;
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void Pick_Rebuilt_SameKeySameEndpoint(string policy)
    {
        string[] first = TestEndpoints.Map(Create(policy, TestEndpoints.Equal(10)), s_keys);
        string[] second = TestEndpoints.Map(Create(policy, TestEndpoints.Equal(10)), s_keys);

        Assert.Equal(first, second);
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void Pick_EndpointsListedInAnotherOrder_SameKeySameEndpoint(string policy)
    {
        Endpoint[] endpoints = TestEndpoints.WithWeights(1, 2, 3, 4, 5, 6, 7);
        Endpoint[] reversed = endpoints.Reverse().ToArray();

        Assert.Equal(TestEndpoints.Map(Create(policy, endpoints), s_keys), TestEndpoints.Map(Create(policy, reversed), s_keys));
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void Pick_EqualWeights_KeysSpreadEvenly(string policy)
    {
        Endpoint[] endpoints = TestEndpoints.Equal(10);
        string[] owners = TestEndpoints.Map(Create(policy, endpoints), s_keys);

        foreach (Endpoint endpoint in endpoints)
        {
            double share = owners.Count(owner => owner == endpoint.Authority) / (double)KeyCount;
            Assert.InRange(share, 0.08, 0.12);
        }
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void Pick_Weights_KeysFollowWeights(string policy)
    {
        Endpoint[] endpoints = TestEndpoints.WithWeights(1, 3);
        string[] owners = TestEndpoints.Map(Create(policy, endpoints), s_keys);

        double share = owners.Count(owner => owner == endpoints[0].Authority) / (double)KeyCount;
        Assert.InRange(share, 0.22, 0.28);
    }

    [Theory]
    [InlineData("ring_hash", 5)]
    [InlineData("ring_hash", 10)]
    [InlineData("ring_hash", 30)]
    [InlineData("maglev", 5)]
    [InlineData("maglev", 10)]
    [InlineData("maglev", 30)]
    public void Pick_EndpointAdded_AboutOneInNPlusOneKeysMoveAllToIt(string policy, int count)
    {
        Endpoint[] before = TestEndpoints.Equal(count);
        Endpoint added = TestEndpoints.Create(count);
        string[] ownersBefore = TestEndpoints.Map(Create(policy, before), s_keys);
        string[] ownersAfter = TestEndpoints.Map(Create(policy, [.. before, added]), s_keys);

        // Ideal: 1/(N+1) of the keys move, all of them to the new endpoint.
        double ideal = 1.0 / (count + 1);
        double moved = Moved(ownersBefore, ownersAfter) / (double)KeyCount;
        Assert.InRange(moved, ideal * 0.6, ideal * 1.4);
        int movedElsewhere = 0;
        for (int i = 0; i < KeyCount; i++)
        {
            movedElsewhere += ownersBefore[i] != ownersAfter[i] && ownersAfter[i] != added.Authority ? 1 : 0;
        }

        // Ring hash moves keys only to the newcomer; Maglev's table shuffles a little more (paper §5.3).
        Assert.InRange(movedElsewhere / (double)KeyCount, 0, policy == "maglev" ? ideal * 0.2 : 0);
    }

    [Theory]
    [InlineData("ring_hash", 5)]
    [InlineData("ring_hash", 10)]
    [InlineData("ring_hash", 30)]
    [InlineData("maglev", 5)]
    [InlineData("maglev", 10)]
    [InlineData("maglev", 30)]
    public void Pick_EndpointRemoved_OnlyAboutOneInNKeysMove(string policy, int count)
    {
        Endpoint[] before = TestEndpoints.Equal(count);
        Endpoint removed = before[count / 2];
        string[] ownersBefore = TestEndpoints.Map(Create(policy, before), s_keys);
        string[] ownersAfter = TestEndpoints.Map(Create(policy, before.Where(e => e != removed).ToArray()), s_keys);

        double ideal = 1.0 / count;
        double moved = Moved(ownersBefore, ownersAfter) / (double)KeyCount;
        Assert.InRange(moved, ideal * 0.6, policy == "maglev" ? ideal * 1.4 : ideal * 1.4);
        int survivorsMoved = 0;
        for (int i = 0; i < KeyCount; i++)
        {
            survivorsMoved += ownersBefore[i] != removed.Authority && ownersBefore[i] != ownersAfter[i] ? 1 : 0;
        }

        Assert.InRange(survivorsMoved / (double)KeyCount, 0, policy == "maglev" ? ideal * 0.2 : 0);
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void Pick_EndpointUnhealthy_OnlyItsKeysMove(string policy)
    {
        Endpoint[] endpoints = TestEndpoints.Equal(8);
        IEndpointPicker picker = Create(policy, endpoints);
        string[] healthy = TestEndpoints.Map(picker, s_keys);

        endpoints[3].IsHealthy = false;
        string[] degraded = TestEndpoints.Map(picker, s_keys);

        for (int i = 0; i < KeyCount; i++)
        {
            if (healthy[i] == endpoints[3].Authority)
            {
                Assert.NotEqual(endpoints[3].Authority, degraded[i]);
            }
            else
            {
                Assert.Equal(healthy[i], degraded[i]);
            }
        }

        // The unhealthy endpoint's keys spread over several others rather than piling onto one.
        Assert.True(degraded.Where((owner, i) => healthy[i] == endpoints[3].Authority).Distinct().Count() >= 4);
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void Pick_NoHashKey_UsesRandomKey(string policy)
    {
        Endpoint[] endpoints = TestEndpoints.Equal(10);
        IEndpointPicker keyed = Create(policy, endpoints);
        var random = new ScriptedRandom(s_keys[..100]);
        IEndpointPicker keyless = PickerRegistry.Create(policy, endpoints, new PickerOptions { Random = random });

        for (int i = 0; i < 100; i++)
        {
            Assert.Same(keyed.Pick(new PickContext(s_keys[i])), keyless.Pick(PickContext.None));
        }

        Assert.Equal(100, random.Draws);
    }
}
