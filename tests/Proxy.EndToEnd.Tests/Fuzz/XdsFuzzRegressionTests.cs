using Proxy.Fuzz.Targets;
using Proxy.Fuzz.XdsTargets;

namespace Proxy.EndToEnd.Tests.Fuzz;

/// <summary>
/// The xds-translation fuzz target (fuzz/Proxy.Fuzz/XdsTargets, compiled in here because it needs Proxy.Xds): its
/// committed seeds are the resources <see cref="XdsFuzzSeeds"/> builds and each is accepted (a seed that is refused
/// teaches the fuzzer nothing about what lies past the refusal), and every seed and every saved finding
/// (TestData/fuzz/xds-translation, each fixed since) replays through the target without a finding.
/// </summary>
public class XdsFuzzRegressionTests
{
    private static readonly string Corpus = Path.Combine(RepositoryRoot(), "fuzz", "corpus", XdsTranslationTarget.Target.Name);

    public static TheoryData<string> SeedNames() => [.. XdsFuzzSeeds.All.Select(s => s.Name)];

    public static TheoryData<string> Inputs()
    {
        var data = new TheoryData<string>();
        var findings = Path.Combine(RepositoryRoot(), "tests", "Proxy.EndToEnd.Tests", "TestData", "fuzz", XdsTranslationTarget.Target.Name);
        foreach (var folder in new[] { Corpus, findings }.Where(Directory.Exists))
        {
            foreach (var file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
            {
                data.Add(file);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SeedNames))]
    public void Seed_IsAcceptedAndCommitted(string name)
    {
        var (_, kind, resource) = XdsFuzzSeeds.All.Single(s => s.Name == name);
        var bytes = XdsFuzzSeeds.Encode(kind, resource);
        var translated = XdsTranslationTarget.Translate(kind, bytes[1..], out var rejection);
        Assert.True(rejection is null && translated is not null, $"seed {name} is refused: {rejection}");

        var path = Path.Combine(Corpus, name);
        if (Environment.GetEnvironmentVariable("PROXY_FUZZ_WRITE_SEEDS") == "1")
        {
            Directory.CreateDirectory(Corpus);
            File.WriteAllBytes(path, bytes);
        }

        Assert.True(File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes),
            $"fuzz/corpus/xds-translation/{name} is missing or stale; run this test with PROXY_FUZZ_WRITE_SEEDS=1 and commit the files");
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Replay_SeedOrSavedFinding_Passes(string file) => XdsTranslationTarget.Target.Run(File.ReadAllBytes(file));

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Proxy.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (the folder with Proxy.sln) is not above the test binaries.");
    }
}
