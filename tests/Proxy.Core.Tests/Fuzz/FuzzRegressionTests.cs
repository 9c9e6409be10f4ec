using Proxy.Fuzz.Targets;

namespace Proxy.Tests.Fuzz;

/// <summary>
/// Replays, through the same fuzz targets AFL++ runs (fuzz/Proxy.Fuzz/Targets, compiled in here), every input the
/// fuzzer once crashed on (TestData/fuzz/TARGET/, each fixed since) and every committed seed (fuzz/corpus/TARGET/).
/// A target throws on any exception the code under test does not document and on any broken invariant it checks.
/// </summary>
public class FuzzRegressionTests
{
    public static TheoryData<string, string> SavedFindings() => Inputs(Path.Combine(AppContext.BaseDirectory, "TestData", "fuzz"));

    public static TheoryData<string, string> Seeds() => Inputs(Path.Combine(RepositoryRoot(), "fuzz", "corpus"));

    [Theory]
    [MemberData(nameof(SavedFindings))]
    public void Replay_SavedFinding_NoLongerFails(string target, string file) => Replay(target, file);

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Replay_Seed_Passes(string target, string file) => Replay(target, file);

    [Fact]
    public void Targets_EveryOneHasACorpusOrSharesOne()
    {
        string corpus = Path.Combine(RepositoryRoot(), "fuzz", "corpus");
        foreach (string name in FuzzTargets.Names)
        {
            Assert.True(name == "planted-bug" || Directory.EnumerateFiles(Path.Combine(corpus, name)).Any(), $"fuzz/corpus/{name} has no seed");
        }
    }

    private static void Replay(string target, string file)
    {
        Assert.True(FuzzTargets.TryGet(target, out FuzzTarget? fuzzTarget), $"no fuzz target named {target}");
        fuzzTarget.Run(File.ReadAllBytes(file));
    }

    private static TheoryData<string, string> Inputs(string root)
    {
        var data = new TheoryData<string, string>();
        foreach (string directory in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            if (!FuzzTargets.TryGet(Path.GetFileName(directory), out _))
            {
                continue; // a target of another assembly (xds-translation: Proxy.EndToEnd.Tests replays it)
            }

            foreach (string file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetFileName(directory), file);
            }
        }

        return data;
    }

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
