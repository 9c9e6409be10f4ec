namespace Proxy.EndToEnd.Tests.Mesh;

/// <summary>
/// A real gRPC server and client (grpc-node's <c>@grpc/grpc-js</c>, installed in tests/node by scripts/setup.sh) for
/// the namespace tests: the apps run inside the namespaces, where the test process cannot open sockets. The service
/// is <c>test.Echo</c> with raw-bytes messages, so no .proto file is needed.
/// </summary>
internal static class GrpcNodeApps
{
    /// <summary>The <c>NODE_PATH</c> that finds tests/node's packages, or null (with the reason) when they are missing.</summary>
    public static string? NodePath(out string? missing)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var modules = Path.Combine(directory.FullName, "tests", "node", "node_modules");
            if (File.Exists(Path.Combine(directory.FullName, "Proxy.sln")))
            {
                missing = Directory.Exists(Path.Combine(modules, "@grpc", "grpc-js")) ? null : $"{modules} has no @grpc/grpc-js: run scripts/setup.sh";
                return missing is null ? modules : null;
            }
        }

        missing = "the repository root (the folder with Proxy.sln) is not above the test binaries";
        return null;
    }

    private const string Service = """
        const grpc = require('@grpc/grpc-js');
        const same = b => b;
        const method = (name, requestStream, responseStream) => ({
          path: '/test.Echo/' + name, requestStream, responseStream,
          requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same });
        const echo = {
          Unary: method('Unary', false, false), ServerStream: method('ServerStream', false, true),
          Bidi: method('Bidi', true, true), Fail: method('Fail', false, false) };
        """;

    /// <summary>
    /// The server on 0.0.0.0:<c>port</c> (h2c): Unary answers its request twice over, ServerStream sends request[0]
    /// messages, Bidi echoes each message, Fail answers NOT_FOUND (5). A sidecar field reaching the app fails the call.
    /// </summary>
    public static string Server(int port) => Service + $$"""
        const sidecarFields = md => ['x-envoy-peer-metadata', 'x-envoy-peer-metadata-id', 'x-proxy-orig-proto'].filter(k => md.get(k).length > 0);
        const server = new grpc.Server();
        server.addService(echo, {
          Unary: (call, done) => {
            const leaked = sidecarFields(call.metadata);
            if (leaked.length) return done({ code: grpc.status.INTERNAL, details: 'leaked ' + leaked.join(',') });
            done(null, Buffer.concat([call.request, call.request]));
          },
          ServerStream: call => { for (let i = 0; i < call.request[0]; i++) call.write(Buffer.from([i])); call.end(); },
          Bidi: call => { call.on('data', d => call.write(d)); call.on('end', () => call.end()); },
          Fail: (call, done) => done({ code: grpc.status.NOT_FOUND, details: 'no such item' }),
        });
        server.bindAsync('0.0.0.0:{{port}}', grpc.ServerCredentials.createInsecure(), err => { if (err) { console.error(err); process.exit(1); } });
        """;

    /// <summary>
    /// The client: <paramref name="unary"/> unary calls, one server stream of 5, one bidirectional stream of 3 and one
    /// failing call against <paramref name="target"/>, printing a line per result ("unary N ok", "stream 0,1,2,3,4",
    /// "bidi 7,8,9", "fail 5").
    /// </summary>
    public static string Client(string target, int unary) => Service + $$"""
        const Echo = grpc.makeGenericClientConstructor(echo, 'Echo');
        const client = new Echo('{{target}}', grpc.credentials.createInsecure());
        const deadline = () => ({ deadline: Date.now() + 10000 });
        const call = (name, req) => new Promise((resolve, reject) =>
          client[name](req, new grpc.Metadata(), deadline(), (err, res) => err ? reject(err) : resolve(res)));
        (async () => {
          let ok = 0;
          for (let i = 0; i < {{unary}}; i++) {
            const res = await call('Unary', Buffer.from([i % 256, 1]));
            if (res.equals(Buffer.from([i % 256, 1, i % 256, 1]))) ok++; else console.log('unary wrong answer ' + res.toString('hex'));
          }
          console.log('unary ' + ok + ' ok');
          const stream = await new Promise((resolve, reject) => {
            const got = []; const s = client.ServerStream(Buffer.from([5]), new grpc.Metadata(), deadline());
            s.on('data', d => got.push(d[0])); s.on('error', reject); s.on('end', () => resolve(got)); });
          console.log('stream ' + stream.join(','));
          const bidi = await new Promise((resolve, reject) => {
            const got = []; const s = client.Bidi(new grpc.Metadata(), deadline());
            s.on('data', d => { got.push(d[0]); if (got.length < 3) s.write(Buffer.from([7 + got.length])); else s.end(); });
            s.on('error', reject); s.on('end', () => resolve(got));
            s.write(Buffer.from([7])); });
          console.log('bidi ' + bidi.join(','));
          try { await call('Fail', Buffer.from([0])); console.log('fail none'); } catch (e) { console.log('fail ' + e.code); }
          client.close();
        })().catch(e => { console.log('error ' + e.code + ' ' + e.details); process.exit(1); });
        """;
}
