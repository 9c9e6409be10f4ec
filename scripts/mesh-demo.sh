#!/usr/bin/env bash
# Mesh walkthrough on one machine (needs root): two network namespaces joined by a veth pair, a
# sidecar in each with `proxy init` interception rules, HTTP apps in the server namespace, and
# curl and python clients in the client namespace. The app traffic is plain HTTP; between the
# sidecars it is mTLS. Then the mesh at L7: a retry hides a flaky replica from the caller, and a
# 90/10 split between two versions, both done by the caller's sidecar per request.
# Everything it creates is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "mesh-demo: run as root (it creates network namespaces and iptables rules)" >&2; exit 1; }
[ -x artifacts/publish/proxy ] || { scripts/setup.sh; scripts/publish.sh; }
proxy="$PWD/artifacts/publish/proxy"
work=$(mktemp -d /tmp/mesh-demo.XXXXXX); chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  ip netns del meshdemo-c 2>/dev/null || true
  ip netns del meshdemo-s 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== 1. two namespaces (client 10.88.0.1, server 10.88.0.2) joined by a veth pair"
ip netns add meshdemo-c; ip netns add meshdemo-s
ip link add meshdemo-vc type veth peer name meshdemo-vs
ip link set meshdemo-vc netns meshdemo-c; ip link set meshdemo-vs netns meshdemo-s
ip -n meshdemo-c addr add 10.88.0.1/24 dev meshdemo-vc; ip -n meshdemo-s addr add 10.88.0.2/24 dev meshdemo-vs
for ns in meshdemo-c meshdemo-s; do ip -n $ns link set lo up; done
ip -n meshdemo-c link set meshdemo-vc up; ip -n meshdemo-s link set meshdemo-vs up

echo "== 2. a mesh CA and one SPIFFE identity per workload"
"$proxy" certs ca --out "$work/ca" >/dev/null
"$proxy" certs issue --ca "$work/ca" --spiffe-id spiffe://demo.local/ns/shop/sa/web --out "$work/web" --ttl 1h >/dev/null
"$proxy" certs issue --ca "$work/ca" --spiffe-id spiffe://demo.local/ns/shop/sa/api --out "$work/api" --ttl 1h >/dev/null

cat > "$work/client.yaml" <<YAML
admin: { address: 127.0.0.1:15000 }
listeners: []
clusters:
  - { name: api, endpoints: [ 10.88.0.2:8080 ] }
  - { name: orders-v1, endpoints: [ 10.88.0.2:9001, 10.88.0.2:9002 ] }   # 9002 is flaky
  - { name: orders-v2, endpoints: [ 10.88.0.2:9003 ] }
mesh:
  identity: { cert: $work/web/cert.pem, key: $work/web/key.pem, ca: $work/ca/ca.pem }
  inbound: { port: 15006, mode: permissive }
  outbound:
    port: 15001
    services:
      - { address: "10.88.0.2:8080", cluster: api, identity: "spiffe://demo.local/ns/shop/sa/api" }
      # the orders service: every request balanced and retried on its own (default retry policy)
      - { address: "10.96.0.10:80", cluster: orders-v1, identity: "spiffe://demo.local/ns/shop/sa/api" }
      # its canary: 90 % to v1, 10 % to v2, per request
      - address: "10.96.0.11:80"
        cluster: orders-v1
        identity: "spiffe://demo.local/ns/shop/sa/api"
        routes:
          - split: [ { cluster: orders-v1, weight: 90 }, { cluster: orders-v2, weight: 10 } ]
YAML
cat > "$work/server.yaml" <<YAML
admin: { address: 127.0.0.1:15000 }
listeners: []
clusters: []
mesh:
  identity: { cert: $work/api/cert.pem, key: $work/api/key.pem, ca: $work/ca/ca.pem }
  inbound:
    port: 15006
    mode: strict
    authorization:
      - deny: { ports: [ 8080 ], paths: [ /admin ] }
      - allow: { principals: [ spiffe://demo.local/ns/shop/sa/web ] }
  outbound: { port: 15001 }
YAML

echo "== 3. proxy init in both namespaces (the sidecars run as root, uid 0, and are excluded)"
for ns in meshdemo-c meshdemo-s; do ip netns exec $ns "$proxy" init --proxy-uid 0 >/dev/null; done
ip netns exec meshdemo-s "$proxy" init --proxy-uid 0 --dry-run | head -12 | sed 's/^/   /'

echo "== 4. the sidecars and the server app (python http.server as nobody)"
mkdir -p "$work/www"; echo "hello from the api app" > "$work/www/index.html"; chmod -R a+rX "$work/www"
ip netns exec meshdemo-s "$proxy" run --config "$work/server.yaml" 2>"$work/server.log" & pids+=($!)
ip netns exec meshdemo-c "$proxy" run --config "$work/client.yaml" 2>"$work/client.log" & pids+=($!)
ip netns exec meshdemo-s setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -m http.server 8080 --directory "$work/www" >/dev/null 2>&1 & pids+=($!)
ip netns exec meshdemo-s "$proxy" wait-ready --admin 127.0.0.1:15000 --timeout 20s
ip netns exec meshdemo-c "$proxy" wait-ready --admin 127.0.0.1:15000 --timeout 20s
sleep 0.5

echo "== 5. the client app (curl as nobody) calls the server's address with plain HTTP"
client() { ip netns exec meshdemo-c setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
echo "   curl http://10.88.0.2:8080/ ->  $(client curl -s -m 5 http://10.88.0.2:8080/)"
echo "   curl http://10.88.0.2:8080/admin ->  HTTP $(client curl -s -o /dev/null -w '%{http_code}' -m 5 http://10.88.0.2:8080/admin) (denied by the server sidecar's policy)"

echo "== 6. what the server sidecar saw"
ip netns exec meshdemo-s curl -s 127.0.0.1:15000/metrics | grep -E '^(proxy_mesh_inbound_(connections|denied)_total|istio_requests_total)' | sed 's/^/   /'

echo "== 7. the mesh at L7: three replicas of 'orders' behind the server sidecar"
cat > "$work/orders.py" <<'PY'
import http.server, socketserver, threading, itertools
counter = itertools.count()
def handler(port, version):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'
        def log_message(self, *a): pass
        def do_GET(self):
            if port == 9002 and next(counter) % 3 == 0:   # flaky: every third request fails
                self.send_response(503); self.send_header('Content-Length', '0'); self.end_headers(); return
            body = ('%s (port %d)' % (version, port)).encode()
            self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
            self.wfile.write(body)
    return H
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
servers = [S(('0.0.0.0', p), handler(p, v)) for p, v in ((9001, 'v1'), (9002, 'v1'), (9003, 'v2'))]
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
servers[0].serve_forever()
PY
cat > "$work/calls.py" <<'PY'
import http.client, sys, collections
host, count = sys.argv[1], int(sys.argv[2])
c = http.client.HTTPConnection(host, 80, timeout=10)
seen = collections.Counter()
for i in range(count):
    c.request('GET', '/orders/%d' % i)
    r = c.getresponse()
    seen['%d %s' % (r.status, r.read().decode())] += 1
for answer, n in sorted(seen.items()):
    print('   %5d x %s' % (n, answer))
PY
chmod a+r "$work/orders.py" "$work/calls.py"
ip netns exec meshdemo-s setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 "$work/orders.py" & pids+=($!)
ip -n meshdemo-c route add 10.96.0.0/16 dev meshdemo-vc   # the virtual service addresses need a route to be redirected
sleep 1
echo "   the flaky replica called directly, next to it (no sidecar in the way), 30 times:"
for i in $(seq 30); do ip netns exec meshdemo-s curl -s -o /dev/null -w '%{http_code}\n' -m 5 http://127.0.0.1:9002/ || true; done | sort | uniq -c | sed 's/^/   /'

echo "== 8. the app calls orders (10.96.0.10) 200 times on one keep-alive connection"
client /usr/bin/python3 "$work/calls.py" 10.96.0.10 200
echo "   every call succeeded, both v1 replicas served them; the caller's sidecar retried the failures:"
ip netns exec meshdemo-c curl -s 127.0.0.1:15000/metrics | grep -E '^proxy_retries_total\{cluster="orders-v1"' | grep -v ' 0$' | sed 's/^/   /'

echo "== 9. the app calls the canary address (10.96.0.11) 1000 times: a 90/10 split, per request"
client /usr/bin/python3 "$work/calls.py" 10.96.0.11 1000
