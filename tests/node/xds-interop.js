'use strict';
// The other side of the C# test ADS server's interop test: a real gRPC client that resolves an xds:/// target
// through @grpc/grpc-js-xds (the xDS client gRPC's proxyless mode uses, from the package the proxy's protos come
// from, under build/xds-protos), and a real gRPC server on loopback for it to reach. The service is test.Echo with
// raw-bytes messages, so no .proto file is needed.
//   node xds-interop.js server --modules=DIR --port=PORT
//   node xds-interop.js client --modules=DIR --ads=HOST:PORT --target=xds:///NAME --calls=N
// DIR is the node_modules folder holding @grpc/grpc-js and @grpc/grpc-js-xds (one grpc-js for both).
const path = require('path');

const [mode, ...rest] = process.argv.slice(2);
const args = Object.fromEntries(rest.map(a => a.split('=', 2)));
if (mode === 'client') {
  // Read by the xDS resolver when the channel is created; set before anything of grpc-js-xds runs.
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [{ server_uri: args['--ads'], channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: 'grpc-js-xds-client', cluster: 'interop', locality: { zone: 'z1' } },
  });
}

const grpc = require(path.join(args['--modules'], '@grpc', 'grpc-js'));
const same = b => b;
const method = name => ({
  path: '/test.Echo/' + name, requestStream: false, responseStream: false,
  requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same });
const echo = { Unary: method('Unary') };

if (mode === 'server') {
  const server = new grpc.Server();
  server.addService(echo, { Unary: (call, done) => done(null, Buffer.concat([Buffer.from('echo:'), call.request])) });
  server.bindAsync('127.0.0.1:' + args['--port'], grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) { console.error(err.message); process.exit(1); }
    console.log('listening ' + port);
  });
} else {
  require(path.join(args['--modules'], '@grpc', 'grpc-js-xds')).register();
  const Echo = grpc.makeGenericClientConstructor(echo, 'Echo');
  const client = new Echo(args['--target'], grpc.credentials.createInsecure());
  const call = i => new Promise((resolve, reject) =>
    client.Unary(Buffer.from('call ' + i), new grpc.Metadata({ waitForReady: true }), { deadline: Date.now() + 30000 },
      (err, res) => err ? reject(err) : resolve(res.toString())));
  (async () => {
    let ok = 0;
    for (let i = 0; i < Number(args['--calls'] || 1); i++) {
      if (await call(i) === 'echo:call ' + i) ok++;
    }
    console.log('unary ' + ok + ' ok');
    process.exit(0);
  })().catch(err => { console.log('failed ' + err.code + ' ' + err.details); process.exit(2); });
}
