using System.IO.Pipelines;
using System.Security.Authentication;
using System.Text;
using Proxy.Tls;

namespace Proxy.Tests.Tls;

public sealed class TlsConnectionTests : IDisposable
{
    private readonly TestPki _pki = new();
    private readonly CertificateStore _store = new(Timeout.InfiniteTimeSpan);

    public void Dispose()
    {
        _store.Dispose();
        _pki.Dispose();
    }

    [Fact]
    public async Task Handshake_MutualTls_BothSidesSeeSpiffeIdsAndBytesFlow()
    {
        var server = _pki.Issue("server", "spiffe://mesh.local/ns/a/sa/server");
        var client = _pki.Issue("client", "spiffe://mesh.local/ns/a/sa/client");
        var serverPolicy = new TlsServerPolicy([(_store.Certificate(server.Cert, server.Key), [])], _store.Bundle(_pki.CaBundle), true, ["h2", "http/1.1"], TlsDefaults.Mesh);
        var clientPolicy = new TlsClientPolicy(null, _store.Bundle(_pki.CaBundle), _store.Certificate(client.Cert, client.Key), ["http/1.1"], SpiffeId.Parse("spiffe://mesh.local/ns/a/sa/server"), protocols: TlsDefaults.Mesh);

        var (serverTls, clientTls) = await HandshakeAsync(serverPolicy, clientPolicy, "anything");
        Assert.Equal("spiffe://mesh.local/ns/a/sa/client", serverTls.PeerIdentity.Principal);
        Assert.Equal("spiffe://mesh.local/ns/a/sa/server", clientTls.PeerIdentity.Principal);
        Assert.Equal(SslProtocols.Tls13, serverTls.Protocol);
        Assert.Equal("http/1.1", clientTls.NegotiatedProtocol.ToString());

        await clientTls.Output.WriteAsync("hello"u8.ToArray());
        await clientTls.Output.CompleteAsync();
        Assert.Equal("hello", await ReadAllAsync(serverTls.Input));
        await serverTls.Output.WriteAsync("bye"u8.ToArray());
        await serverTls.Output.CompleteAsync();
        Assert.Equal("bye", await ReadAllAsync(clientTls.Input));
        serverTls.Dispose();
        clientTls.Dispose();
    }

    [Fact]
    public async Task Handshake_WrongExpectedIdentity_ClientRefuses()
    {
        var server = _pki.Issue("server", "spiffe://mesh.local/ns/a/sa/server");
        var serverPolicy = new TlsServerPolicy([(_store.Certificate(server.Cert, server.Key), [])], null, false, ["http/1.1"]);
        var clientPolicy = new TlsClientPolicy(null, _store.Bundle(_pki.CaBundle), null, [], SpiffeId.Parse("spiffe://mesh.local/ns/a/sa/other"));
        await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(serverPolicy, clientPolicy, "x"));
    }

    [Fact]
    public async Task Handshake_ClientCertificateRequiredButMissing_Refused()
    {
        var server = _pki.Issue("server", "spiffe://mesh.local/s", "server.test");
        var serverPolicy = new TlsServerPolicy([(_store.Certificate(server.Cert, server.Key), [])], _store.Bundle(_pki.CaBundle), true, ["http/1.1"]);
        var clientPolicy = new TlsClientPolicy(null, _store.Bundle(_pki.CaBundle), null, []);
        await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(serverPolicy, clientPolicy, "server.test"));
    }

    [Fact]
    public async Task Handshake_ClientCertificateFromAnotherCa_Refused()
    {
        using var other = new TestPki();
        var server = _pki.Issue("server", "spiffe://mesh.local/s", "server.test");
        var stranger = other.Issue("stranger", "spiffe://mesh.local/ns/a/sa/client");
        var serverPolicy = new TlsServerPolicy([(_store.Certificate(server.Cert, server.Key), [])], _store.Bundle(_pki.CaBundle), true, ["http/1.1"], TlsDefaults.Mesh);
        var clientPolicy = new TlsClientPolicy(null, _store.Bundle(_pki.CaBundle), _store.Certificate(stranger.Cert, stranger.Key), [], SpiffeId.Parse("spiffe://mesh.local/s"), protocols: TlsDefaults.Mesh);
        await AssertRefusedAsync(serverPolicy, clientPolicy, "server.test");
    }

    [Fact]
    public async Task Handshake_ServerFromAnotherCa_MeshClientRefuses()
    {
        using var other = new TestPki();
        var impostor = other.Issue("impostor", "spiffe://mesh.local/s", "server.test"); // the right ID, the wrong CA
        var serverPolicy = new TlsServerPolicy([(_store.Certificate(impostor.Cert, impostor.Key), [])], null, false, ["http/1.1"], TlsDefaults.Mesh);
        var clientPolicy = new TlsClientPolicy(null, _store.Bundle(_pki.CaBundle), null, [], SpiffeId.Parse("spiffe://mesh.local/s"), protocols: TlsDefaults.Mesh);
        await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(serverPolicy, clientPolicy, "server.test"));
    }

    [Fact]
    public async Task Handshake_ClientCertificateWithoutClientAuthUsage_Refused()
    {
        // As OpenSSL's purpose check does for Envoy: a certificate whose extended key usage names serverAuth only
        // does not authenticate a client.
        var server = _pki.Issue("server", "spiffe://mesh.local/s", "server.test");
        var serverOnly = _pki.IssueServerAuthOnly("server-only", "spiffe://mesh.local/ns/a/sa/client");
        var serverPolicy = new TlsServerPolicy([(_store.Certificate(server.Cert, server.Key), [])], _store.Bundle(_pki.CaBundle), true, ["http/1.1"], TlsDefaults.Mesh);
        var clientPolicy = new TlsClientPolicy(null, _store.Bundle(_pki.CaBundle), _store.Certificate(serverOnly.Cert, serverOnly.Key), [], SpiffeId.Parse("spiffe://mesh.local/s"), protocols: TlsDefaults.Mesh);
        await AssertRefusedAsync(serverPolicy, clientPolicy, "server.test");
    }

    [Fact]
    public async Task Handshake_Sni_PicksMatchingCertificate()
    {
        var a = _pki.Issue("a", "spiffe://mesh.local/a", "a.test");
        var b = _pki.Issue("b", "spiffe://mesh.local/b", "b.test", "x.wild.test");
        var serverPolicy = new TlsServerPolicy(
            [(_store.Certificate(a.Cert, a.Key), ["a.test"]), (_store.Certificate(b.Cert, b.Key), ["b.test", "*.wild.test"])],
            null, false, ["http/1.1"]);
        Assert.Equal(1, serverPolicy.IndexFor("x.wild.test"));
        Assert.Equal(0, serverPolicy.IndexFor("unknown.test"));
        var clientPolicy = new TlsClientPolicy(null, _store.Bundle(_pki.CaBundle), null, []);
        var (serverTls, clientTls) = await HandshakeAsync(serverPolicy, clientPolicy, "b.test");
        Assert.Equal("spiffe://mesh.local/b", clientTls.PeerIdentity.Principal);
        Assert.Equal("b.test", serverTls.ServerName);
        serverTls.Dispose();
        clientTls.Dispose();
    }

    [Fact]
    public async Task Poll_RotatedFiles_NewHandshakeUsesNewCertificate()
    {
        var first = _pki.Issue("rot", "spiffe://mesh.local/v1");
        var source = _store.Certificate(first.Cert, first.Key);
        var serverPolicy = new TlsServerPolicy([(source, [])], null, false, ["http/1.1"]);
        var clientPolicy = new TlsClientPolicy(null, _store.Bundle(_pki.CaBundle), null, [], insecureSkipVerify: true);
        var (s1, c1) = await HandshakeAsync(serverPolicy, clientPolicy, "x");
        Assert.Equal("spiffe://mesh.local/v1", c1.PeerIdentity.Principal);

        Thread.Sleep(20); // a distinct modification time
        _pki.Issue("rot", "spiffe://mesh.local/v2");
        Assert.True(_store.Poll() >= 1);
        Assert.Equal(2, source.Current.Version);
        var (s2, c2) = await HandshakeAsync(serverPolicy, clientPolicy, "x");
        Assert.Equal("spiffe://mesh.local/v2", c2.PeerIdentity.Principal);

        // The connection made before the rotation still works.
        await c1.Output.WriteAsync("still"u8.ToArray());
        await c1.Output.CompleteAsync();
        Assert.Equal("still", await ReadAllAsync(s1.Input));
        foreach (var c in new[] { s1, c1, s2, c2 })
        {
            c.Dispose();
        }
    }

    [Fact]
    public void Poll_HalfWrittenFile_KeepsOldCertificate()
    {
        var first = _pki.Issue("half", "spiffe://mesh.local/v1");
        var source = _store.Certificate(first.Cert, first.Key);
        File.WriteAllText(first.Cert, "-----BEGIN CERTIFICATE-----\nMIIB");
        Assert.False(source.Poll());
        Assert.NotNull(source.LastError);
        Assert.Equal(1, source.Current.Version);
    }

    /// <summary>
    /// The server refuses the client's certificate. In TLS 1.3 the client may finish its side before the server
    /// has checked the certificate, so the refusal shows as the server's failure or as the client's first read ending.
    /// </summary>
    private static async Task AssertRefusedAsync(TlsServerPolicy server, TlsClientPolicy client, string host)
    {
        try
        {
            var (serverTls, clientTls) = await HandshakeAsync(server, client, host);
            serverTls.Dispose();
            clientTls.Dispose();
            Assert.Fail("the server accepted the client certificate");
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            // refused
        }
    }

    private static async Task<(TlsConnection Server, TlsConnection Client)> HandshakeAsync(TlsServerPolicy server, TlsClientPolicy client, string host)
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        var serverSide = new DuplexPipe(toServer.Reader, toClient.Writer);
        var clientSide = new DuplexPipe(toClient.Reader, toServer.Writer);
        var serverTask = TlsConnection.AcceptAsync(serverSide, serverSide, server, TimeSpan.FromSeconds(10));
        var clientTask = TlsConnection.ConnectAsync(clientSide, clientSide, client, host, TimeSpan.FromSeconds(10));
        try
        {
            await Task.WhenAll(serverTask, clientTask);
        }
        catch
        {
            serverSide.Dispose();
            clientSide.Dispose();
            throw;
        }

        return (serverTask.Result, clientTask.Result);
    }

    private static async Task<string> ReadAllAsync(PipeReader reader)
    {
        var text = new StringBuilder();
        while (true)
        {
            var result = await reader.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                text.Append(Encoding.ASCII.GetString(segment.Span));
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return text.ToString();
            }
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe, IDisposable
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;

        public void Dispose()
        {
            Input.Complete();
            Output.Complete();
        }
    }
}
