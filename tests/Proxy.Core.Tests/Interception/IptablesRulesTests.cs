using System.Net.Sockets;
using Proxy.Interception;

namespace Proxy.Tests.Interception;

/// <summary>
/// Rule generation against golden files in TestData/interception. Set UPDATE_GOLDEN=1 to rewrite
/// them (then review the diff).
/// </summary>
public sealed class IptablesRulesTests
{
    public static TheoryData<string> Cases() => ["default", "uid-gid-mark", "include-exclude", "ipv6", "remove"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generate_Options_MatchesGoldenFile(string name)
    {
        var actual = Render(name);
        var path = Path.Combine(AppContext.BaseDirectory, "TestData", "interception", name + ".rules");
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            var source = Path.Combine(SourceDirectory(), "TestData", "interception", name + ".rules");
            File.WriteAllText(source, actual);
            return;
        }

        Assert.Equal(File.ReadAllText(path), actual);
    }

    [Fact]
    public void Generate_Twice_SameOutput()
    {
        var options = new InterceptionOptions { ProxyUid = 1337 };
        Assert.Equal(IptablesRules.Generate(options), IptablesRules.Generate(options));
    }

    [Fact]
    public void Generate_ProxyUid_ReturnComesBeforeRedirect()
    {
        var rules = IptablesRules.Generate(new InterceptionOptions { ProxyUid = 1337 });
        var own = rules.IndexOf("--uid-owner 1337", StringComparison.Ordinal);
        var redirect = rules.IndexOf("-j PROXY_REDIRECT", StringComparison.Ordinal);
        Assert.InRange(own, 0, redirect);
    }

    [Fact]
    public void Validate_BadPortAndCidr_ReportsBoth()
    {
        var errors = IptablesRules.Validate(new InterceptionOptions { InboundExcludePorts = [70000], OutboundExcludeCidrs = ["10.0.0.0/99"] });
        Assert.Equal(2, errors.Count);
    }

    private static string Render(string name) => name switch
    {
        "default" => IptablesRules.Generate(new InterceptionOptions { ProxyUid = 1337 }),
        "uid-gid-mark" => IptablesRules.Generate(new InterceptionOptions { ProxyUid = 1337, ProxyGid = 1337, ProxyMark = 0x539, AdminPort = 15020 }),
        "include-exclude" => IptablesRules.Generate(new InterceptionOptions
        {
            ProxyUid = 2102,
            InboundPort = 4143,
            OutboundPort = 4140,
            InboundIncludePorts = [8080, 9090],
            InboundExcludePorts = [22],
            OutboundExcludePorts = [25, 3306],
            OutboundIncludeCidrs = ["10.96.0.0/12", "fd00::/8"],
            OutboundExcludeCidrs = ["10.96.0.1/32"],
            OutboundIncludePorts = [80, 443],
        }),
        "ipv6" => IptablesRules.Generate(new InterceptionOptions { ProxyUid = 1337, OutboundIncludeCidrs = ["fd00::/8"], OutboundExcludeCidrs = ["10.0.0.0/8"] }, AddressFamily.InterNetworkV6),
        _ => IptablesRules.GenerateRemove(),
    };

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string file = "") =>
        Path.GetDirectoryName(Path.GetDirectoryName(file))!;
}
