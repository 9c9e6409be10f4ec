#!/usr/bin/env bash
# Mesh walkthrough on one machine (needs root): two network namespaces joined by a veth pair, a
# sidecar in each with `proxy init` interception rules, an HTTP app in the server namespace, and
# curl in the client namespace. The app traffic is plain HTTP; between the sidecars it is mTLS.
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
mesh:
  identity: { cert: $work/web/cert.pem, key: $work/web/key.pem, ca: $work/ca/ca.pem }
  inbound: { port: 15006, mode: permissive }
  outbound:
    port: 15001
    services:
      - { address: "10.88.0.2:8080", cluster: api, identity: "spiffe://demo.local/ns/shop/sa/api" }
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
