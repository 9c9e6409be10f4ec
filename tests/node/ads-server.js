'use strict';
// A scripted ADS (aggregated discovery) server written with grpc-node: @grpc/grpc-js for the transport and
// @grpc/proto-loader reading Envoy's v3 protos from the same package the proxy's build generates its C# from
// (build/xds-protos). It shares no code with the proxy or the C# test server: a second, independent implementation
// of the server side of both protocol variants (StreamAggregatedResources, state of the world, and
// DeltaAggregatedResources, incremental).
//
// The test scripts it over stdin and stdout, one JSON object a line:
//   in:  {"op":"send","type_url":T,"version":V,"resources":[{"name":N,"version":RV,"value":BASE64}],"removed":[N...]}
//          sends one response on the newest stream (DiscoveryResponse or DeltaDiscoveryResponse, as the stream is);
//          the resources are serialized by the test, the server wraps them (Any, and Resource for delta)
//        {"op":"end"} ends every open stream with status OK
//   out: {"event":"listening","port":P}, {"event":"stream","stream":ID,"variant":"sotw"|"delta"},
//        {"event":"request","stream":ID,"request":{...}} (field names as in the protos), {"event":"sent","nonce":X},
//        {"event":"closed","stream":ID}
// Usage: node ads-server.js --port=PORT --protos=DIR (DIR: @grpc/grpc-js-xds's deps folder)
const path = require('path');
const readline = require('readline');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const args = Object.fromEntries(process.argv.slice(2).map(a => a.split('=', 2)));
const deps = args['--protos'];
const definition = protoLoader.loadSync('envoy/service/discovery/v3/ads.proto', {
  keepCase: true, longs: String, enums: String, defaults: false, oneofs: true,
  includeDirs: ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map(d => path.join(deps, d)),
});
const ads = grpc.loadPackageDefinition(definition).envoy.service.discovery.v3.AggregatedDiscoveryService;

const emit = event => process.stdout.write(JSON.stringify(event) + '\n');
const streams = new Map();
let lastStream = 0;
let nonces = 0;

function serve(variant) {
  return call => {
    const id = ++lastStream;
    const closed = () => { if (streams.delete(id)) emit({ event: 'closed', stream: id }); };
    streams.set(id, { call, variant });
    emit({ event: 'stream', stream: id, variant });
    call.on('data', request => emit({ event: 'request', stream: id, request }));
    call.on('end', () => { closed(); call.end(); });
    call.on('error', closed);
    call.on('cancelled', closed);
  };
}

function send(command) {
  const newest = [...streams.values()].pop();
  if (!newest) {
    emit({ event: 'error', message: 'no open stream to send on' });
    return;
  }

  const nonce = 'node-' + (++nonces);
  const any = r => ({ type_url: command.type_url, value: Buffer.from(r.value, 'base64') });
  if (newest.variant === 'delta') {
    newest.call.write({
      system_version_info: command.version,
      type_url: command.type_url,
      resources: (command.resources || []).map(r => ({ name: r.name, version: r.version, resource: any(r) })),
      removed_resources: command.removed || [],
      nonce,
    });
  } else {
    newest.call.write({ version_info: command.version, type_url: command.type_url, resources: (command.resources || []).map(any), nonce });
  }

  emit({ event: 'sent', nonce });
}

const server = new grpc.Server();
server.addService(ads.service, { StreamAggregatedResources: serve('sotw'), DeltaAggregatedResources: serve('delta') });
server.bindAsync('127.0.0.1:' + (args['--port'] || '0'), grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    emit({ event: 'error', message: err.message });
    process.exit(1);
  }

  emit({ event: 'listening', port });
});

readline.createInterface({ input: process.stdin }).on('line', line => {
  const command = JSON.parse(line);
  if (command.op === 'send') {
    send(command);
  } else if (command.op === 'end') {
    for (const { call } of streams.values()) call.end();
  }
}).on('close', () => process.exit(0));
