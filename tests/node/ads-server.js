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
//          the resources are serialized by the test, the server wraps them (Any, and Resource for delta); a resource
//          may instead carry "json": the message as an object with the proto field names (protobufjs's fromObject:
//          enums by name, an Any as {"@type": URL, ...fields}), encoded here as type_url's message (the scale
//          benchmark, bench/harness/xdsscale.py, builds its thousands of resources this way)
//        {"op":"end"} ends every open stream with status OK
//   out: {"event":"listening","port":P}, {"event":"stream","stream":ID,"variant":"sotw"|"delta"},
//        {"event":"request","stream":ID,"request":{...}} (field names as in the protos), {"event":"sent","nonce":X},
//        {"event":"closed","stream":ID}; requests and sent carry "t_ns": CLOCK_MONOTONIC in nanoseconds (libuv's hrtime,
//        the clock of Python's time.monotonic_ns), so a harness can time the ACK and the traffic against the send
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
const now = () => process.hrtime.bigint().toString();

// The message types of the "json" resources, loaded on first use (a few seconds: the whole of Envoy's v3 API).
let messages = null;
function encodeJson(typeUrl, object) {
  if (!messages) {
    const protobuf = require('protobufjs');
    const includeDirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map(d => path.join(deps, d));
    messages = new protobuf.Root();
    messages.resolvePath = (origin, target) => {
      for (const dir of includeDirs) {
        const candidate = path.join(dir, target);
        if (require('fs').existsSync(candidate)) return candidate;
      }
      return target;
    };
    messages.loadSync([
      'envoy/config/cluster/v3/cluster.proto', 'envoy/config/endpoint/v3/endpoint.proto',
      'envoy/config/listener/v3/listener.proto', 'envoy/config/route/v3/route.proto',
      'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
      'envoy/extensions/filters/http/router/v3/router.proto',
      'envoy/extensions/transport_sockets/tls/v3/tls.proto', 'envoy/extensions/transport_sockets/tls/v3/secret.proto',
    ], { keepCase: true });
  }

  const type = messages.lookupType(typeUrl.substring(typeUrl.lastIndexOf('/') + 1));
  return Buffer.from(type.encode(type.fromObject(object)).finish());
}
const streams = new Map();
let lastStream = 0;
let nonces = 0;

function serve(variant) {
  return call => {
    const id = ++lastStream;
    const closed = () => { if (streams.delete(id)) emit({ event: 'closed', stream: id }); };
    streams.set(id, { call, variant });
    emit({ event: 'stream', stream: id, variant });
    call.on('data', request => emit({ event: 'request', stream: id, t_ns: now(), request }));
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
  const any = r => ({ type_url: command.type_url, value: r.json ? encodeJson(command.type_url, r.json) : Buffer.from(r.value, 'base64') });
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

  emit({ event: 'sent', nonce, t_ns: now() });
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
    try {
      send(command);
    } catch (err) {
      emit({ event: 'error', message: 'cannot send: ' + err.message }); // a resource the protos reject, say
    }
  } else if (command.op === 'end') {
    for (const { call } of streams.values()) call.end();
  }
}).on('close', () => process.exit(0));
