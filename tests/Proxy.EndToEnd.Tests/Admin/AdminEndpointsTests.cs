using System.Text.Json;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Host;
using Proxy.Tls;

namespace Proxy.EndToEnd.Tests.Admin;

/// <summary>The admin endpoints an Envoy user reaches for, over real HTTP: /clusters, /listeners, /certs, /server_info, /logging, /config_dump.</summary>
public sealed class AdminEndpointsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-admin-e2e-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string TcpConfig(string endpoints, string clusterExtra = "") => $$"""
        admin: { address: 127.0.0.1:0 }
        listeners:
          - { name: tcp, address: 127.0.0.1:0, protocol: tcp, cluster: backend }
        clusters:
          - { name: backend, endpoints: [ {{endpoints}} ]{{clusterExtra}} }
        """;

    [Fact]
    public async Task Clusters_WithoutHealthCheck_ActiveCheckIsNone()
    {
        await using var echo = TcpUpstream.Echo();
        await using var proxy = await RunningProxy.StartAsync(TcpConfig(echo.Address.ToString()));

        var (status, text) = await proxy.Admin.GetAsync("/clusters");

        Assert.Equal(200, status);
        Assert.Contains($"backend::{echo.Address}::healthy=true::active_check=none::", text);
        Assert.DoesNotContain("active_check=passed", text);
    }

    [Fact]
    public async Task Clusters_WithHealthCheck_ActiveCheckPassedAndJsonFormat()
    {
        await using var echo = TcpUpstream.Echo();
        await using var proxy = await RunningProxy.StartAsync(TcpConfig(echo.Address.ToString(), ", health_check: { type: tcp, interval: 1s }"));

        Assert.Contains("active_check=passed", (await proxy.Admin.GetAsync("/clusters")).Body);
        var (status, body) = await proxy.Admin.GetAsync("/clusters?format=json");

        Assert.Equal(200, status);
        using var json = JsonDocument.Parse(body);
        var cluster = json.RootElement.GetProperty("cluster_statuses")[0];
        Assert.Equal("backend", cluster.GetProperty("name").GetString());
        Assert.True(cluster.GetProperty("health_checked").GetBoolean());
        var host = cluster.GetProperty("host_statuses")[0];
        Assert.Equal(echo.Address.ToString(), host.GetProperty("address").GetString());
        Assert.True(host.GetProperty("healthy").GetBoolean());
        Assert.Equal("passed", host.GetProperty("active_check").GetString());
        Assert.Equal(1, host.GetProperty("weight").GetInt32());
    }

    [Fact]
    public async Task Listeners_TextAndJson_NameTheBoundAddress()
    {
        await using var echo = TcpUpstream.Echo();
        await using var proxy = await RunningProxy.StartAsync(TcpConfig(echo.Address.ToString()));
        var bound = proxy.Listener("tcp");

        Assert.Equal((200, $"tcp::{bound}\n"), await proxy.Admin.GetAsync("/listeners"));
        using var json = JsonDocument.Parse((await proxy.Admin.GetAsync("/listeners?format=json")).Body);
        var listener = json.RootElement.GetProperty("listener_statuses")[0];
        Assert.Equal("tcp", listener.GetProperty("name").GetString());
        Assert.Equal(bound.ToString(), listener.GetProperty("local_address").GetString());
        Assert.Equal("127.0.0.1:0", listener.GetProperty("configured_address").GetString());
        Assert.Equal("tcp", listener.GetProperty("protocol").GetString());
        Assert.False(listener.GetProperty("tls").GetBoolean());
    }

    [Fact]
    public async Task Certs_ListenerCertificate_SubjectSansSerialExpiry()
    {
        using var ca = CertificateAuthority.Create("admin e2e CA", TimeSpan.FromDays(10));
        ca.Save(Path.Combine(_dir, "ca"));
        using (var edge = ca.IssueServer(["web.example", "www.web.example"], TimeSpan.FromDays(3)))
        {
            edge.Save(Path.Combine(_dir, "web"));
        }

        using var issued = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(_dir, "web", "cert.pem")));
        await using var echo = TcpUpstream.Echo();
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            listeners:
              - name: web
                address: 127.0.0.1:0
                tls:
                  certificates: { cert: {{_dir}}/web/cert.pem, key: {{_dir}}/web/key.pem }
                  client_ca: {{_dir}}/ca/ca.pem
                routes: { cluster: backend }
            clusters:
              - { name: backend, endpoints: {{echo.Address}} }
            """);

        var (status, body) = await proxy.Admin.GetAsync("/certs");

        Assert.Equal(200, status);
        using var json = JsonDocument.Parse(body);
        var entry = json.RootElement.GetProperty("certificates")[0];
        Assert.Equal(Path.Combine(_dir, "web", "cert.pem"), entry.GetProperty("path").GetString());
        var cert = entry.GetProperty("cert");
        Assert.Equal("CN=web.example", cert.GetProperty("subject").GetString());
        Assert.Equal("CN=admin e2e CA", cert.GetProperty("issuer").GetString());
        Assert.Equal(issued.SerialNumber.ToLowerInvariant(), cert.GetProperty("serial_number").GetString());
        Assert.Equal(["web.example", "www.web.example"], cert.GetProperty("subject_alt_names").EnumerateArray().Select(s => s.GetProperty("dns").GetString()));
        Assert.InRange(cert.GetProperty("days_until_expiration").GetInt32(), 2, 3);
        Assert.Equal(issued.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"), cert.GetProperty("expiration_time").GetString());
        var bundle = json.RootElement.GetProperty("ca_bundles")[0];
        Assert.Equal(Path.Combine(_dir, "ca", "ca.pem"), bundle.GetProperty("path").GetString());
        Assert.Equal("CN=admin e2e CA", bundle.GetProperty("certs")[0].GetProperty("subject").GetString());
    }

    [Fact]
    public async Task ServerInfo_VersionCommitStateUptime()
    {
        await using var echo = TcpUpstream.Echo();
        await using var proxy = await RunningProxy.StartAsync(TcpConfig(echo.Address.ToString()));

        using (var json = JsonDocument.Parse((await proxy.Admin.GetAsync("/server_info")).Body))
        {
            var info = json.RootElement;
            Assert.Equal(BuildInfo.Version, info.GetProperty("version").GetString());
            Assert.Equal(BuildInfo.Commit, info.GetProperty("commit").GetString());
            Assert.NotEqual("", BuildInfo.Commit);
            Assert.Equal("LIVE", info.GetProperty("state").GetString());
            Assert.InRange(info.GetProperty("uptime_seconds").GetInt64(), 0, 60);
            Assert.Equal(1, info.GetProperty("config_generation").GetInt64());
            Assert.Equal(proxy.ConfigPath, info.GetProperty("config_file").GetString());
        }

        Assert.Equal(202, (await proxy.Admin.PostAsync("/drain")).Status);
        using var draining = JsonDocument.Parse((await proxy.Admin.GetAsync("/server_info")).Body);
        Assert.Equal("DRAINING", draining.RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Logging_GetReadsPostSetsTheLevel()
    {
        await using var echo = TcpUpstream.Echo();
        await using var proxy = await RunningProxy.StartAsync("log: { level: warn }\n" + TcpConfig(echo.Address.ToString()));

        Assert.Equal((200, "level: warn\n"), await proxy.Admin.GetAsync("/logging"));
        Assert.Equal((200, "level: debug\n"), await proxy.Admin.PostAsync("/logging?level=debug"));
        Assert.Equal((200, "level: debug\n"), await proxy.Admin.GetAsync("/logging"));
        Assert.True(await proxy.LoggedAsync("log level changed through the admin API"), proxy.Log.ToString());

        var (status, message) = await proxy.Admin.PostAsync("/logging?level=chatty");
        Assert.Equal(400, status);
        Assert.Contains("unknown level 'chatty'; use debug, info, warn or error", message);
        Assert.Equal(400, (await proxy.Admin.PostAsync("/logging")).Status);
    }

    [Fact]
    public async Task ConfigDump_RunningConfigurationWithGenerationAndSource()
    {
        await using var echo = TcpUpstream.Echo();
        await using var proxy = await RunningProxy.StartAsync(TcpConfig(echo.Address.ToString()));

        var (status, body) = await proxy.Admin.GetAsync("/config_dump");

        Assert.Equal(200, status);
        using var json = JsonDocument.Parse(body);
        Assert.Equal(1, json.RootElement.GetProperty("generation").GetInt64());
        Assert.Equal(proxy.ConfigPath, json.RootElement.GetProperty("source").GetString());
        var config = json.RootElement.GetProperty("config");
        Assert.Equal("backend", config.GetProperty("clusters")[0].GetProperty("name").GetString());
        Assert.Equal(echo.Address.ToString(), config.GetProperty("clusters")[0].GetProperty("endpoints")[0].GetProperty("address").GetString());
    }
}
