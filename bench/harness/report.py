"""Markdown tables and a hand-written SVG chart from the results dictionary."""

from xml.sax.saxutils import escape

import mesh
import xdsscale

BINARY_TARGET_BYTES = 20 * 1000 * 1000


def _f(value, fmt="{:.1f}", na="n/a"):
    return na if value is None else fmt.format(value)


def _mib(kib):
    return None if kib is None else kib / 1024


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)


def markdown(res):
    meta, settings, proxy = res["meta"], res["settings"], res["proxy"]
    out = [f"# Benchmark {meta['date']}", ""]
    out.append(f"Commit {meta['commit']}; {meta['cores']} cores ({meta['cpu']}), kernel {meta['kernel']}; "
               f"load average {meta['loadavg_at_start']:.2f} at start, {meta.get('loadavg_at_end', 0):.2f} at end "
               "(other work on the machine adds noise).")
    out.append(f"Mode {settings['mode']}: {settings['rounds']} round(s), {settings['duration_s']:g} s per wrk run, "
               f"scenarios {', '.join(settings['scenarios'])}. Figures are medians over rounds; ratios are medians "
               "of per-round ratios (targets alternate, order rotated each round).")
    out.append("Versions: " + "; ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".")
    out.append("")

    # ---- the proxy itself
    size = proxy.get("binary_bytes")
    size_text = "n/a (not published)" if size is None else \
        f"{size / 1e6:.1f} MB ({'under' if size < BINARY_TARGET_BYTES else 'OVER'} the 20 MB target)"
    out += ["## This proxy", "", _table(["figure", "value"], [
        ["binary size (artifacts/publish/proxy)", size_text],
        ["exec to /ready 200 (median)", _f(proxy.get("exec_to_ready_ms"), "{:.1f} ms")],
        ["idle RSS", _f(_mib(res["idle_rss_kib"].get("proxy")), "{:.1f} MiB")],
        ["http listener (L7)", proxy.get("http_listener", "not measured")],
    ]), ""]

    # ---- startup
    if res["startup"]:
        rows = []
        for kind, s in res["startup"].items():
            via = f" (via {s['first_200_via']})" if kind == "proxy" else ""
            rows.append([kind, _f(s.get("ready_ms_median"), "{:.1f}"), _f(s.get("first_200_ms_median"), "{:.1f}") + via,
                         len(s["first_200_ms"])])
        out += ["## Start-up", "", "Exec to ready, and exec to the first proxied 200 (polled every ~1 ms).", "",
                _table(["target", "exec to /ready ms", "exec to first proxied 200 ms", "starts"], rows), ""]

    # ---- HTTP workloads
    latency = res.get("latency") or {}
    for key, block in res["http"].items():
        header = ["target", "rps", "vs direct", "vs HAProxy", "proxy CPU µs/req", "backend CPU µs/req",
                  "idle RSS MiB", "RSS under load MiB", "HWM MiB", "upstream conns/req", "errors", "wrk p50/p99 ms"]
        if key == "http1-1m":
            header.insert(2, "MiB/s")
        rows = []
        for r in block["rows"]:
            if "unavailable" in r:
                row = [r["label"], r["unavailable"]] + [""] * (len(header) - 2)
                rows.append(row)
                continue
            idle = res["idle_rss_kib"].get(r["key"].replace("-l4", "")) if r["key"] != "direct" else None
            row = [r["label"], _f(r["rps"], "{:.0f}"), _f(r["ratio_direct"], "{:.2f}"), _f(r["ratio_haproxy"], "{:.2f}"),
                   _f(r["cpu_us_per_req"], "{:.1f}", "-"), _f(r["backend_cpu_us_per_req"], "{:.1f}"),
                   _f(_mib(idle), "{:.1f}", "-"),
                   _f(_mib(r["rss_peak_kib"]), "{:.1f}") if r["key"] != "direct" else "-",
                   _f(_mib(r["hwm_kib"]), "{:.1f}") if r["key"] != "direct" else "-",
                   _f(r["upstream_conns_per_req"], "{:.4f}"), r["errors"],
                   f"{_f(r['wrk_p50_ms'], '{:.2f}')}/{_f(r['wrk_p99_ms'], '{:.2f}')}"]
            if key == "http1-1m":
                row.insert(2, _f(r["mib_per_s"], "{:.0f}"))
            rows.append(row)
        out += [f"## {block['title']}", "",
                f"`wrk -t2 -c{block['connections']} -d{settings['duration_s']:g}s"
                + "".join(f" -H '{h}'" for h in block["headers"])
                + f" http://TARGET{block['path']}`. CPU is utime+stime of every process of the target over the run, "
                "divided by completed requests. RSS figures sum all processes of the target.", "",
                _table(header, rows), ""]

    # ---- open-model latency
    if latency:
        out += [f"## Latency at a fixed rate (open model, {latency.get('rps')} rps, {latency.get('connections')} connections)", "",
                "loadtests/Proxy.LoadTests `rate`, 1 KiB responses; requests are sent on schedule whether or not "
                "earlier ones finished, so queueing shows up in the tail.", ""]
        if latency.get("unavailable"):
            out += [latency["unavailable"], ""]
        else:
            rows = []
            for key, r in latency["rows"].items():
                if "error" in r:
                    rows.append([r.get("label", key), r["error"], "", "", "", ""])
                    continue
                rows.append([r.get("label", key), _f(r.get("p50_ms"), "{:.2f}"), _f(r.get("p99_ms"), "{:.2f}"),
                             _f(r.get("p999_ms"), "{:.2f}"), _f(r.get("achieved_rps"), "{:.0f}"),
                             f"{r.get('errors', 0)} errors, {r.get('lost', 0)} lost of {r.get('sent', '?')}"])
            out += [_table(["target", "p50 ms", "p99 ms", "p99.9 ms", "achieved rps", "errors"], rows), ""]

    # ---- TCP bulk
    if res["tcp"]:
        rows = []
        for r in res["tcp"]["rows"]:
            if "unavailable" in r:
                rows.append([r["label"], r["unavailable"], "", "", ""])
                continue
            rows.append([r["label"], _f(r["speed_MiBps"], "{:.0f}"), _f(r["ratio_direct"], "{:.2f}"),
                         _f(r["ratio_haproxy"], "{:.2f}"), _f(r["cpu_s_per_gib"], "{:.2f}", "-")])
        out += ["## TCP bulk", "",
                f"curl downloads of a {res['tcp']['bulk_mib']} MiB file from tmpfs, through each target's TCP (L4) listener.", "",
                _table(["target", "MiB/s", "vs direct", "vs HAProxy", "target CPU s/GiB"], rows), ""]

    out += _syscalls(res.get("syscalls") or {})
    out += _idleconns(res.get("idleconns") or {})
    out += _http2(res.get("http2") or {}, settings)
    out += _mtls(res.get("mtls") or {}, settings)
    out += _mesh(res.get("mesh") or {}, settings)
    out += xdsscale.markdown(res.get("xdsscale") or {})
    return "\n".join(out)


def _syscalls(block):
    if not block:
        return []
    out = ["## System calls per request (HTTP/1.1 keep-alive)", "",
           f"`strace -c -f` attached to every thread of the target while `h2load --h1 -n {block.get('requests')} "
           f"-c{block.get('connections')} -t1` GETs the 1 KiB body through it (after 2,000 unmeasured requests). "
           "Counts both sides of the target (client and backend connections); strace slows the target, so only "
           "the counts are reported.", ""]
    if block.get("unavailable"):
        return out + [block["unavailable"], ""]
    rows = []
    for r in block.get("rows", []):
        if "unavailable" in r:
            rows.append([r["label"], r["unavailable"], ""])
            continue
        top = ", ".join(f"{name} {per:.2f}" for name, per in r["top"])
        rows.append([r["label"], f"{r['per_request']:.2f}", top])
    return out + [_table(["target", "syscalls per request", "most frequent, per request"], rows), ""]


def _idleconns(block):
    if not block:
        return []
    counts = block.get("counts", [])
    out = ["## Memory per idle keep-alive connection", "",
           f"A fresh process of each target; N client connections ({', '.join(f'{n:,}' for n in counts)}) each make one "
           f"keep-alive `GET /` ({block.get('batch')} in flight at a time), read the 1 KiB answer and stay open; "
           f"{block.get('settle_s')} s later RSS is read. **KiB/conn** is (RSS with N idle - RSS idle) / N, summed over "
           "every process of the target; **upstream held** the target's established connections to the backend "
           "meanwhile (ss); **alive** the sampled connections that still answered a second request after the wait. "
           f"**after close** is RSS {block.get('after_s')} s after the target's last connections closed, against its "
           "idle RSS (issue 18: back within 10 MB). Target: at most 4 KB per connection.", ""]
    if block.get("unavailable"):
        return out + [block["unavailable"], ""]
    if block.get("note"):
        out += [block["note"], ""]
    header = ["target", "idle RSS MiB"]
    for n in counts:
        header += [f"{n:,}: RSS MiB", f"{n:,}: KiB/conn", f"{n:,}: upstream held", f"{n:,}: alive"]
    header += ["after close MiB (vs idle)"]
    rows = []
    for r in block.get("rows", []):
        if "unavailable" in r:
            rows.append([r["label"], r["unavailable"]] + [""] * (len(header) - 2))
            continue
        row = [r["label"], _f(_mib(r.get("idle_rss_kib")), "{:.1f}")]
        points = {p["connections"]: p for p in r.get("points", [])}
        for n in counts:
            p = points.get(n)
            if p is None:
                row += ["n/a"] * 4
                continue
            failed = f" ({p['failed']} failed)" if p.get("failed") else ""
            if p.get("open") is not None and p["open"] + p.get("failed", 0) != n:
                failed += f" ({p['open']:,} connections)"
            row += [_f(_mib(p.get("rss_kib")), "{:.1f}"), _f(p.get("per_conn_kib"), "{:.2f}") + failed,
                    _f(p.get("upstream_held"), "{:g}", "-"), p.get("alive_after_wait", "-")]
        after, idle = r.get("after_rss_kib"), r.get("idle_rss_kib")
        row.append(f"{_f(_mib(after), '{:.1f}')} ({_f(_mib(after - idle) if after is not None and idle is not None else None, '{:+.1f}')})")
        rows.append(row)
    return out + [_table(header, rows), ""]


def _http2(block, settings):
    if not block:
        return []
    out = ["## HTTP/2 (h2c, prior knowledge)", "",
           f"`h2load -t{block.get('threads', 2)} -c{block.get('clients', 16)} -m{block.get('streams', 100)} "
           f"-D{settings['duration_s']:g} http://TARGET/`: {block.get('clients', 16)} connections x "
           f"{block.get('streams', 100)} concurrent streams, GET of the 1 KiB body. The backend is nginx 1.22 on a "
           "plain `listen ... http2` port (h2c only). **upstream conns opened** are new backend connections "
           "during one run (stub_status accepts; median over rounds); **held** is the target's established "
           "connections to the backend right after a run (ss); **proxy counter** is "
           "proxy_upstream_connections_total of the row's cluster since start, warm-up included.", ""]
    if block.get("unavailable"):
        return out + [block["unavailable"], ""]
    rows = []
    for r in block.get("rows", []):
        if "unavailable" in r:
            rows.append([r["label"], r["unavailable"]] + [""] * 8)
            continue
        rows.append([r["label"], _f(r["rps"], "{:.0f}"), _f(r["ratio_direct"], "{:.2f}"), _f(r["ratio_haproxy"], "{:.2f}"),
                     _f(r["cpu_us_per_req"], "{:.1f}", "-"), _f(_mib(r.get("rss_kib")), "{:.1f}", "-"),
                     _f(r.get("upstream_conns"), "{:g}"), _f(r.get("upstream_held"), "{:g}", "-"),
                     _f(r.get("proxy_upstream_conns_since_start"), "{:g}", "-"), r["errors"]])
    header = ["target", "rps", "vs direct", "vs HAProxy", "CPU µs/req", "RSS MiB", "upstream conns opened",
              "held", "proxy counter", "errors"]
    return out + [_table(header, rows), ""]


def _mtls(block, settings):
    if not block:
        return []
    out = ["## mTLS between two sidecars", ""]
    if block.get("unavailable"):
        return out + [block["unavailable"], ""]
    chain = block.get("chain", {})
    out += [f"Two proxy processes on loopback, A (plain HTTP in) -> B -> backend; the hop A -> B is mutual TLS "
            f"(A presents its workload certificate, B requires one from the mesh CA) or plain TCP. "
            f"`wrk -t2 -c{block.get('connections', 32)} -d{settings['duration_s']:g}s` keep-alive against A; "
            "CPU is A + B per request. Target: mTLS/plaintext >= 0.75.", ""]
    rows = []
    for r in chain.get("rows", []):
        if "unavailable" in r:
            rows.append([r["label"], r["unavailable"], "", "", "", ""])
            continue
        rows.append([r["label"], _f(r["rps"], "{:.0f}"), _f(r.get("ratio_plain"), "{:.2f}"),
                     _f(r["cpu_us_per_req"], "{:.1f}"), r["errors"],
                     f"{_f(r['wrk_p50_ms'], '{:.2f}')}/{_f(r['wrk_p99_ms'], '{:.2f}')}"])
    out += [_table(["chain", "rps", "vs plaintext", "CPU µs/req (A+B)", "errors", "wrk p50/p99 ms"], rows), ""]
    hs = block.get("handshakes", {})
    out += [f"New TLS connections per second to a TLS listener requiring a client certificate: 2 Python `ssl` "
            f"client processes for {hs.get('seconds', '?')} s each; every connection does the handshake, one "
            "`GET /` with `Connection: close` and reads the answer (which also delivers the TLS 1.3 ticket). "
            "**full**: no session offered; **resumed**: the previous connection's session offered. "
            "**server µs/conn** is the terminating process's CPU per connection. Target: resumed/full >= 5.", ""]
    rows = []
    for r in hs.get("rows", []):
        if "unavailable" in r:
            rows.append([r["label"], r["unavailable"]] + [""] * 6)
            continue
        cells = [r["label"]]
        for mode in ("full", "resumed"):
            m = r.get(mode, {})
            if "error" in m:
                cells += [m["error"], ""]
            else:
                reused = f", {m['reused']}/{m['conns']} reused" if mode == "resumed" else ""
                cells += [f"{m['per_s']:.0f}{reused}", _f(m.get("server_cpu_us_per_conn"), "{:.0f}")]
        cells += [_f(r.get("ratio"), "{:.2f}"), _f(r.get("cpu_ratio"), "{:.2f}")]
        rows.append(cells)
    out += [_table(["server", "full conns/s", "full server µs/conn", "resumed conns/s", "resumed server µs/conn",
                    "resumed/full rate", "full/resumed server CPU"], rows), ""]
    return out


def _mesh(block, settings):
    if not block:
        return []
    out = ["## Mesh: two sidecars against direct and two HAProxy hops", ""]
    if block.get("unavailable"):
        return out + [block["unavailable"], ""]
    ref = block.get("reference", {})
    out += [f"Two network namespaces joined by a veth pair. **direct**: the app called across the link; **two sidecars**: "
            "client sidecar by `proxy init` interception, mutual TLS 1.3, server sidecar in front of the app; **two HAProxy "
            "hops**: client-side HAProxy on loopback, mutual TLS to a server-side HAProxy (HTTP/1.1 inside over pooled "
            "connections for HTTP/1.1, HTTP/2 for gRPC). Apps: nginx "
            "(1 KiB body) and bench/GrpcPeer (bench.Echo/Ping, 1 KiB reply). Load: h2load at a fixed rate (`--rps`) as the "
            "client app, on the connections each table names (HTTP/1.1: one request in flight per connection; gRPC: "
            f"{block.get('grpc_streams')} streams per connection), {settings['duration_s']:g} s per point"
            f"{' after %g s of warm-up' % block['point_warmup_s'] if block.get('point_warmup_s') else ''}; "
            "latency from sending a request to the end of its response; an achieved rate marked * is under "
            "95 % of the asked one: the set-up did not keep up, and requests h2load could not send on time are not in "
            "its latency. **added** is the "
            "set-up minus direct (median of per-round differences); **CPU µs/req** is utime+stime of both proxies over the "
            "run, divided by requests. Load average "
            f"{block.get('loadavg_at_start', 0):.2f} at the start of the scenario, {block.get('loadavg_at_end', 0):.2f} at the end.", ""]
    out += [f"Reference: {ref.get('label')}: +{ref.get('p90_ms', 0):.3f} ms p90, +{ref.get('p99_ms', 0):.3f} ms p99 "
            f"({ref.get('source')}).", ""]
    if block.get("client_sidecar_requests") is not None:
        out += [f"The client sidecar counted {block['client_sidecar_requests']} requests (`istio_requests_total`, "
                f"reporter=\"source\") while h2load got {block.get('mesh_requests_sent')} answers through the sidecar "
                "set-up (measured and warm-up runs).", ""]
    header = ["set-up", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "added p50", "added p90", "added p99",
              "CPU µs/req (both proxies)", "achieved rps", "errors", "load avg"]
    for table in block.get("tables", []):
        rows = []
        for r in table["rows"]:
            if "unavailable" in r:
                rows.append([r["label"], r["unavailable"]] + [""] * (len(header) - 2))
                continue
            added = [_f(r.get(k), "{:+.3f}", "-") for k in ("added_p50_ms", "added_p90_ms", "added_p99_ms")]
            rows.append([r["label"], _f(r["p50_ms"], "{:.3f}"), _f(r["p90_ms"], "{:.3f}"), _f(r["p99_ms"], "{:.3f}"),
                         _f(r["p999_ms"], "{:.3f}")] + added +
                        [_f(r.get("cpu_us_per_req"), "{:.1f}", "-"),
                         _f(r["achieved_rps"], "{:.0f}") + ("" if r.get("rate_held", True) else "*"),
                         f"{r['errors']} of {r['requests'] + r['errors']}", _f(r.get("loadavg"), "{:.1f}")])
        out += [f"### {table['protocol_label']} at {table['rate']:,} requests/s, {table.get('connections')} connections", "",
                _table(header, rows), ""]
        verdict = mesh.verdicts(table)
        if verdict:
            out += ["; ".join(verdict) + ".", ""]
    return out


# ---- SVG ---------------------------------------------------------------------------------------

COLORS = {"direct": "#9e9e9e", "proxy": "#1565c0", "proxy-l4": "#64b5f6", "haproxy": "#2e7d32",
          "nginx": "#ef6c00", "yarp": "#6a1b9a"}


def _panel(x0, y0, width, title, bars, fmt):
    """One horizontal bar chart: bars = [(label, value or None, color)]."""
    parts = [f'<text x="{x0}" y="{y0}" font-size="14" font-weight="bold">{escape(title)}</text>']
    label_w, bar_h, gap = 130, 18, 8
    values = [v for _, v, _ in bars if v is not None]
    top = max(values) if values else 1
    span = width - label_w - 70
    y = y0 + 14
    for label, value, color in bars:
        parts.append(f'<text x="{x0 + label_w - 6}" y="{y + 13}" font-size="12" text-anchor="end">{escape(label)}</text>')
        if value is None:
            parts.append(f'<text x="{x0 + label_w + 4}" y="{y + 13}" font-size="12" fill="#757575">n/a</text>')
        else:
            w = max(1.0, span * value / top) if top else 1.0
            parts.append(f'<rect x="{x0 + label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>')
            parts.append(f'<text x="{x0 + label_w + w + 4:.1f}" y="{y + 13}" font-size="12">{escape(fmt.format(value))}</text>')
        y += bar_h + gap
    return parts, y


def svg(res):
    width, panel_w = 1000, 480
    parts, bottom = [], 40
    small = res["http"].get("http1-small")
    if small:
        rows = small["rows"]
        ratio = [(r["label"], r.get("ratio_direct"), COLORS.get(r["key"], "#333")) for r in rows]
        cpu = [(r["label"], r.get("cpu_us_per_req"), COLORS.get(r["key"], "#333")) for r in rows if r["key"] != "direct"]
        p1, y1 = _panel(10, 40, panel_w, "HTTP/1.1 small: rps / direct (higher is better)", ratio, "{:.2f}")
        p2, y2 = _panel(10 + panel_w + 20, 40, panel_w, "HTTP/1.1 small: CPU µs per request (lower is better)", cpu, "{:.1f}")
        parts += p1 + p2
        bottom = max(y1, y2) + 20
    if res["tcp"]:
        bars = [(r["label"], r.get("ratio_direct"), COLORS.get(r["key"], "#333")) for r in res["tcp"]["rows"]]
        p3, y3 = _panel(10, bottom + 20, panel_w, "TCP bulk: throughput / direct (higher is better)", bars, "{:.2f}")
        parts += p3
        bottom = y3 + 20
    h2 = (res.get("http2") or {}).get("rows")
    if h2:
        colors = {"direct": "#9e9e9e", "proxy-h2": "#1565c0", "proxy-h1": "#64b5f6", "haproxy": "#2e7d32"}
        bars = [(r["label"].split(" -> ")[0] + (" (" + r["label"].split(" -> ")[1].split()[0] + " up)" if " -> " in r["label"] else ""),
                 r.get("ratio_direct"), colors.get(r["key"], "#333")) for r in h2]
        p4, y4 = _panel(10, bottom + 20, panel_w, "HTTP/2 h2c: rps / direct (higher is better)", bars, "{:.2f}")
        parts += p4
        bottom = y4 + 20
    meta = res["meta"]
    title = f"proxy benchmark {meta['date']} ({res['settings']['mode']}, {meta['cores']} cores, commit {meta['commit']})"
    head = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{bottom + 10}" font-family="sans-serif">',
            '<rect width="100%" height="100%" fill="white"/>',
            f'<text x="10" y="20" font-size="15">{escape(title)}</text>']
    return "\n".join(head + parts + ["</svg>", ""])
