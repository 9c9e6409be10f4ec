using Proxy.Configuration;

namespace Proxy.Tests.Configuration;

public class ConfigRobustnessTests
{
    [Theory]
    [InlineData("full.yaml")]
    [InlineData("full.json")]
    public void LoadText_EveryPrefix_NeverThrowsAndErrorsHaveLocations(string name)
    {
        string text = File.ReadAllText(ConfigTestData.PathOf(name));
        for (int length = 0; length < text.Length; length++)
        {
            var result = ConfigLoader.LoadText(text[..length], name);
            Assert.True(result.Success || result.Errors.Count > 0);
            foreach (var error in result.Errors)
            {
                Assert.True(error.Line >= 1 && error.Column >= 1, error.ToString());
            }
        }
    }

    [Fact]
    public void LoadText_DeepNesting_ReportsErrorInsteadOfOverflowing()
    {
        string deep = "admin: " + new string('[', 10_000) + new string(']', 10_000);

        var result = ConfigLoader.LoadText(deep, "deep.yaml");

        Assert.Contains("nesting deeper than", Assert.Single(result.Errors).Message);
    }

    [Theory]
    [InlineData(": {\n0")]
    [InlineData("a: [ {\nb")]
    public void LoadText_ScannerFailureInYamlDotNet_ReportsSyntaxError(string text)
    {
        // Found by fuzzing: YamlDotNet's scanner throws InvalidOperationException on an open flow collection ending in
        // a plain scalar; proxy validate crashed on it instead of naming the problem.
        var result = ConfigLoader.LoadText(text, "open-flow.yaml");

        Assert.False(result.Success);
        ConfigError error = Assert.Single(result.Errors);
        Assert.StartsWith("syntax error", error.Message);
        Assert.True(error.Line >= 1);
    }
}
