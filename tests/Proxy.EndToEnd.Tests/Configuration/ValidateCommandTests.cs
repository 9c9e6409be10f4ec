using Proxy.Host.Cli;

namespace Proxy.EndToEnd.Tests.Configuration;

/// <summary><c>proxy validate</c> and <c>proxy run</c> with bad files: every error, exit 1.</summary>
public class ValidateCommandTests
{
    [Fact]
    public async Task Validate_FileWithSeveralErrors_PrintsEachWithLineAndExits1()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("proxy-validate-").FullName, "bad.yaml");
        await File.WriteAllTextAsync(path, """
            listeners:
              - name: web
                address: 0.0.0.0:99999
                protocol: tcp
                cluster: missing
              - name: web
                address: 127.0.0.1:8081
                protocol: tcp
                cluster: api
                bogus: 1
            clusters:
              - name: api
                endpoints: [ 10.0.0.1:80 ]
                connect_timeout: soon
            """);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = await CommandLine.RunAsync(["validate", "--config", path], stdout, stderr);

        Assert.Equal(1, exit);
        var text = stderr.ToString();
        Assert.Contains($"{path}:3:", text);   // bad port
        Assert.Contains($"{path}:5:", text);   // missing cluster
        Assert.Contains($"{path}:6:", text);   // duplicate listener name
        Assert.Contains($"{path}:10:", text);  // unknown key
        Assert.Contains($"{path}:14:", text);  // bad duration
    }

    [Fact]
    public async Task Validate_GoodFile_Exits0()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("proxy-validate-").FullName, "good.json");
        await File.WriteAllTextAsync(path, """
            { "listeners": [ { "name": "t", "address": "127.0.0.1:9000", "protocol": "tcp", "cluster": "c" } ],
              "clusters": [ { "name": "c", "endpoints": [ "127.0.0.1:9001" ] } ] }
            """);
        var stdout = new StringWriter();
        Assert.Equal(0, await CommandLine.RunAsync(["validate", "--config", path], stdout, new StringWriter()));
        Assert.Contains("valid", stdout.ToString());
    }

    [Fact]
    public async Task Run_InvalidFile_Exits1WithoutBinding()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("proxy-validate-").FullName, "bad.yaml");
        await File.WriteAllTextAsync(path, "listeners: 5\n");
        var stderr = new StringWriter();
        Assert.Equal(1, await CommandLine.RunAsync(["run", "--config", path], new StringWriter(), stderr));
        Assert.Contains($"{path}:1:", stderr.ToString());
    }

    [Fact]
    public async Task OptionWithoutCommand_NamesTheCommandItNeeds()
    {
        var stderr = new StringWriter();

        var exit = await CommandLine.RunAsync(["--config", "proxy.yaml"], new StringWriter(), stderr);

        Assert.Equal(2, exit);
        Assert.Contains("did you mean 'proxy run --config proxy.yaml'?", stderr.ToString());
    }

    [Fact]
    public async Task UnknownCommand_SaysSo()
    {
        var stderr = new StringWriter();

        var exit = await CommandLine.RunAsync(["start", "--config", "proxy.yaml"], new StringWriter(), stderr);

        Assert.Equal(2, exit);
        Assert.Contains("proxy: unknown command 'start'", stderr.ToString());
    }
}
