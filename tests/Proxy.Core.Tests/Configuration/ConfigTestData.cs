using Proxy.Configuration;

namespace Proxy.Tests.Configuration;

/// <summary>Paths of the sample configuration files copied beside the test assembly.</summary>
internal static class ConfigTestData
{
    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", "config", name);

    /// <summary>Loads inline YAML, named as if it lived in the test data folder.</summary>
    public static ConfigLoadResult Load(string yaml) => ConfigLoader.LoadText(yaml, PathOf("inline.yaml"));

    public static ProxyConfig LoadValid(string yaml)
    {
        var result = Load(yaml);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        return result.Config;
    }

    /// <summary>Asserts exactly one error and returns it.</summary>
    public static ConfigError SingleError(string yaml)
    {
        var result = Load(yaml);
        Assert.False(result.Success);
        Assert.True(result.Errors.Count == 1, "expected one error, got:\n" + string.Join("\n", result.Errors));
        return result.Errors[0];
    }
}
