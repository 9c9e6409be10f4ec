using System.Text.Json;
using Proxy.Configuration;

namespace Proxy.Tests.Configuration;

public class ConfigWriterTests
{
    [Fact]
    public void ToJson_FullExample_ReloadsToEqualModel()
    {
        var original = ConfigLoader.LoadFile(ConfigTestData.PathOf("full.yaml")).Config!;

        string json = ConfigWriter.ToJson(original);
        var reloaded = ConfigLoader.LoadText(json, ConfigTestData.PathOf("written.json"));

        Assert.True(reloaded.Success, string.Join("\n", reloaded.Errors) + "\n" + json);
        Assert.Equal(original, reloaded.Config);
    }

    [Fact]
    public void ToJson_DefaultsOnly_ReloadsToEqualModel()
    {
        var original = ConfigTestData.LoadValid("""
            listeners:
              - { name: t, address: "[::]:9000", protocol: tcp, cluster: c }
              - { name: h, address: 127.0.0.1:80, routes: [ { split: [ { cluster: c, weight: 1 } ] } ] }
            clusters:
              - { name: c, endpoints: [ c.local:80 ] }
            """);

        string json = ConfigWriter.ToJson(original);
        var reloaded = ConfigLoader.LoadText(json, "other/dir/x.json");

        Assert.True(reloaded.Success, string.Join("\n", reloaded.Errors) + "\n" + json);
        Assert.Equal(original, reloaded.Config);
    }

    [Fact]
    public void ToJson_Output_IsValidJsonWithConfigKeys()
    {
        var config = ConfigLoader.LoadFile(ConfigTestData.PathOf("full.yaml")).Config!;

        using var document = JsonDocument.Parse(ConfigWriter.ToJson(config));
        var root = document.RootElement;

        Assert.Equal("127.0.0.1:15090", root.GetProperty("admin").GetProperty("address").GetString());
        Assert.Equal("20s", root.GetProperty("drain_time").GetString());
        Assert.Equal("10s", root.GetProperty("drain_timeout").GetString());
        var route = root.GetProperty("listeners")[0].GetProperty("routes")[1];
        Assert.Equal("^v[0-9]+$", route.GetProperty("match").GetProperty("headers")[2].GetProperty("regex").GetString());
        Assert.Equal("1500ms", route.GetProperty("fault").GetProperty("delay").GetProperty("duration").GetString());
        Assert.Equal("[::1]:5432", root.GetProperty("listeners")[1].GetProperty("address").GetString());
    }
}
