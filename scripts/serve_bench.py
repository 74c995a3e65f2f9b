#!/usr/bin/env python3
"""ck-serve gates outside `make test` (docs/SERVE.md), on the tiny synthetic model, loopback only.

  serve_bench.py rss   --build build   1000 bad requests; the server's RSS after them stays within a bound
  serve_bench.py load  --build build   200 requests, 8 concurrent: 0 failures, p50/p99 latency, tokens/s
  serve_bench.py nginx --build build   the same load through nginx (Debian) in front of 2 ck-serve replicas,
                                       then scripts/ck_batch.py sharding a JSONL file over the two replicas

Each writes markdown on stdout and JSON into BUILD/bench/serve_<mode>.json, and exits 1 when its assertion fails.
Standard library only (http.client, threads). Numbers taken on a shared machine are "under load".
"""
import argparse
import base64
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = os.path.join(ROOT, "tests", "parity", "images", "chelsea.png")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Server:
    """One ck-serve process on a free loopback port."""

    def __init__(self, build, work, name, *flags):
        self.log_path = os.path.join(work, f"{name}.log")
        self.log = open(self.log_path, "w+")
        cmd = [os.path.join(build, "bin", "ck-serve"), "--mmproj", models(build, work)[0], "--model",
               models(build, work)[1], "--host", "127.0.0.1", "--port", "0", "--cache-dir",
               os.path.join(work, "cache"), "--alias", "tiny", *flags]
        self.proc = subprocess.Popen(cmd, stderr=self.log, stdout=subprocess.DEVNULL)
        self.port = None
        for _ in range(1200):
            self.log.seek(0)
            for line in self.log.read().splitlines():
                if line.startswith("ck-serve: listening on http://127.0.0.1:"):
                    self.port = int(line.rsplit(":", 1)[1])
            if self.port or self.proc.poll() is not None:
                break
            time.sleep(0.1)
        if not self.port:
            self.log.seek(0)
            raise RuntimeError("ck-serve did not start:\n" + self.log.read())

    def metrics(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request("GET", "/metrics")
        out = {}
        for line in c.getresponse().read().decode().splitlines():
            if line and not line.startswith("#"):
                k, v = line.split()
                out[k] = float(v)
        return out

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=120)
        if rc != 0:
            raise RuntimeError(f"ck-serve exited {rc}")


_models = {}


def models(build, work):
    if work not in _models:
        subprocess.run([os.path.join(build, "bin", "ck-synth"), "--preset", "tiny", "--mmproj-type", "f16",
                        "--text-type", "f16", "-o", work, "-q", "--tokenizer",
                        os.path.join(os.environ.get("CK_DEPS_DIR", os.path.join(build, "deps")), "qwen3-tokenizer",
                                     "tokenizer.json")], check=True)
        _models[work] = (os.path.join(work, "tiny-mmproj-f16.gguf"), os.path.join(work, "tiny-text-f16.gguf"))
    return _models[work]


def chat_body(prompt, max_tokens, image=True):
    content = [{"type": "text", "text": prompt}]
    if image:
        with open(IMAGE, "rb") as f:
            uri = "data:image/png;base64," + base64.b64encode(f.read()).decode()
        content.append({"type": "image_url", "image_url": {"url": uri}})
    return json.dumps({"model": "tiny", "temperature": 0, "max_tokens": max_tokens,
                       "messages": [{"role": "user", "content": content}]})


def post(port, body, content_type="application/json", headers=None, timeout=600):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = {"Content-Type": content_type}
    h.update(headers or {})
    try:
        c.request("POST", "/v1/chat/completions", body=body, headers=h)
        r = c.getresponse()
        return r.status, r.read()
    except (ConnectionError, http.client.HTTPException) as e:  # a server that refuses early may reset
        return 0, str(e).encode()
    finally:
        c.close()


def bad_requests():
    """The kinds of bad input of tests/cli/serve.bats, as (body, content type, extra headers)."""
    import struct
    import zlib
    ihdr = struct.pack(">IIBBBBB", 50000, 50000, 8, 2, 0, 0, 0)
    huge = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))

    def with_url(url):
        return json.dumps({"messages": [{"role": "user", "content": [
            {"type": "text", "text": "x"}, {"type": "image_url", "image_url": {"url": url}}]}]})
    with open(IMAGE, "rb") as f:
        trunc = f.read()[:300]
    return [
        ('{"messages": [', "application/json", None),
        (chat_body("x", 4, image=False), "text/plain", None),
        (json.dumps({"messages": [{"role": "user", "content": "x"}], "bogus": 1}), "application/json", None),
        (with_url("data:image/png;base64," + base64.b64encode(trunc).decode()), "application/json", None),
        (with_url("data:image/png;base64," + base64.b64encode(b"not an image at all").decode()), "application/json",
         None),
        (with_url("data:image/png;base64,%%%"), "application/json", None),
        (with_url("data:image/png;base64," + base64.b64encode(huge).decode()), "application/json", None),
        # a 100 MB Content-Length: refused from the header, the body is never sent
        (b"", "application/json", {"Content-Length": str(100 << 20)}),
    ]


def percentile(xs, p):
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def mode_rss(a, work):
    s = Server(a.build, work, "rss", "-t", "1")
    kinds = bad_requests()
    statuses = {}
    try:
        def send(i):
            body, ct, h = kinds[i % len(kinds)]
            st, _ = post(s.port, body, ct, h, timeout=60)
            return st
        for i in range(100):  # warm-up: allocator pools, thread stacks
            send(i)
        before = rss_kb(s.proc.pid)
        for i in range(a.n):
            st = send(i)
            statuses[st] = statuses.get(st, 0) + 1
        after = rss_kb(s.proc.pid)
        st, body = post(s.port, chat_body("Describe the image.", 4), timeout=120)
        still_serving = st == 200
        m = s.metrics()
    finally:
        s.stop()
    growth = after - before
    ok = growth <= a.bound_kb and still_serving and all(400 <= k < 500 for k in statuses)
    res = {"requests": a.n, "statuses": {str(k): v for k, v in statuses.items()}, "rss_kb_before": before,
           "rss_kb_after": after, "growth_kb": growth, "bound_kb": a.bound_kb, "still_serving": still_serving,
           "requests_4xx_total": m.get("ck_requests_4xx_total"), "ok": ok}
    print(f"| bad requests | statuses | RSS before | RSS after | growth | bound | serves after |\n|---|---|---|---|---|---|---|\n"
          f"| {a.n} | {res['statuses']} | {before} kB | {after} kB | {growth} kB | {a.bound_kb} kB | {still_serving} |")
    return res, ok


def run_load(port, n, concurrency, max_tokens):
    prompts = ["Describe the image.", "What is in the picture?", "Name the colours.", "Is there a cat?"]
    bodies = [chat_body(p, max_tokens) for p in prompts]
    lat, tokens, failures = [], [0], []
    lock = threading.Lock()

    def one(i):
        t0 = time.monotonic()
        st, body = post(port, bodies[i % len(bodies)])
        dt = time.monotonic() - t0
        with lock:
            if st != 200:
                failures.append((i, st, body[:200].decode(errors="replace")))
                return
            lat.append(dt)
            tokens[0] += json.loads(body)["usage"]["completion_tokens"]
    t0 = time.monotonic()
    with ThreadPoolExecutor(concurrency) as ex:
        list(ex.map(one, range(n)))
    wall = time.monotonic() - t0
    return {"requests": n, "concurrency": concurrency, "max_tokens": max_tokens, "failures": len(failures),
            "failure_samples": failures[:5], "wall_s": round(wall, 3),
            "p50_ms": round(percentile(lat, 50) * 1000, 1) if lat else None,
            "p99_ms": round(percentile(lat, 99) * 1000, 1) if lat else None,
            "completion_tokens": tokens[0], "tokens_per_s": round(tokens[0] / wall, 1),
            "requests_per_s": round(len(lat) / wall, 2)}


def load_table(rows):
    out = ["| setup | requests | concurrent | failures | p50 | p99 | completion tokens/s | requests/s |",
           "|---|---|---|---|---|---|---|---|"]
    for name, r in rows:
        out.append(f"| {name} | {r['requests']} | {r['concurrency']} | {r['failures']} | {r['p50_ms']} ms | "
                   f"{r['p99_ms']} ms | {r['tokens_per_s']} | {r['requests_per_s']} |")
    return "\n".join(out)


def mode_load(a, work):
    s = Server(a.build, work, "load", "--parallel", str(a.parallel), "-t", "1")
    try:
        r = run_load(s.port, a.n, a.concurrency, a.max_tokens)
        m = s.metrics()
    finally:
        s.stop()
    r["server"] = {"parallel": a.parallel, "threads_per_sequence": 1,
                   "images_cached_total": m.get("ck_images_cached_total"),
                   "images_encoded_total": m.get("ck_images_encoded_total")}
    print(load_table([(f"1 ck-serve, --parallel {a.parallel}", r)]))
    return r, r["failures"] == 0


def mode_nginx(a, work):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        raise RuntimeError("nginx is not installed (make serve-nginx installs it: bash scripts/deps.sh nginx)")
    reps = [Server(a.build, work, f"replica{k}", "--parallel", str(a.parallel), "-t", "1") for k in range(2)]
    ngx = os.path.join(work, "nginx")
    os.makedirs(os.path.join(ngx, "logs"), exist_ok=True)
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    conf = os.path.join(ngx, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(port=port, ngx=ngx,
                                  servers="\n".join(f"    server 127.0.0.1:{r.port};" for r in reps)))
    proc = subprocess.Popen([nginx, "-p", ngx, "-e", os.path.join(ngx, "logs", "error.log"), "-c", conf], stderr=subprocess.STDOUT,
                            stdout=open(os.path.join(ngx, "logs", "stdout.log"), "w"))
    try:
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        r = run_load(port, a.n, a.concurrency, a.max_tokens)
        per = [int(x.metrics().get("ck_requests_ok_total", 0)) for x in reps]
        r["per_replica_ok"] = per
        # the batch client, sharding a JSONL file straight over both replicas
        jin, jout = os.path.join(work, "batch_in.jsonl"), os.path.join(work, "batch_out.jsonl")
        with open(jin, "w") as f:
            for i in range(20):
                f.write(json.dumps({"id": f"r{i}", "prompt": "Describe the image.", "image": IMAGE,
                                    "max_tokens": 8}) + "\n")
        t0 = time.monotonic()
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "ck_batch.py"), "--in", jin, "--out", jout,
                        *sum((["--server", f"http://127.0.0.1:{x.port}"] for x in reps), []),
                        "--concurrency", "4"], check=True)
        out = [json.loads(l) for l in open(jout)]
        r["batch"] = {"lines": len(out), "errors": sum(1 for o in out if "error" in o),
                      "ids_in_order": [o["id"] for o in out] == [f"r{i}" for i in range(20)],
                      "same_text": len({o.get("text") for o in out}) == 1, "wall_s": round(time.monotonic() - t0, 2)}
    finally:
        proc.send_signal(signal.SIGQUIT)  # nginx: graceful stop
        proc.wait(timeout=30)
        for x in reps:
            x.stop()
    print(load_table([(f"nginx -> 2 ck-serve replicas, --parallel {a.parallel} each", r)]))
    print(f"\nrequests answered per replica: {r['per_replica_ok']}; batch client: {r['batch']}")
    ok = r["failures"] == 0 and all(p > 0 for p in per) and r["batch"]["errors"] == 0 and r["batch"]["ids_in_order"] \
        and r["batch"]["same_text"] and r["batch"]["lines"] == 20
    return r, ok


# A minimal nginx in front of the replicas: least_conn (long generations), no buffering (SSE streams through),
# a body limit above ck-serve's own so the replica's 413 JSON is what a client sees, long read timeouts.
NGINX_CONF = """daemon off;
worker_processes 1;
pid {ngx}/nginx.pid;
error_log {ngx}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {ngx}/body; proxy_temp_path {ngx}/proxy; fastcgi_temp_path {ngx}/fastcgi;
  uwsgi_temp_path {ngx}/uwsgi; scgi_temp_path {ngx}/scgi;
  upstream ck_serve {{
    least_conn;
{servers}
    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 128m;
    location / {{
      proxy_pass http://ck_serve;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 600s;
    }}
  }}
}}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["rss", "load", "nginx"])
    ap.add_argument("--build", default="build")
    ap.add_argument("-n", type=int, default=None, help="requests (rss: 1000, load/nginx: 200)")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--parallel", type=int, default=2, help="ck-serve --parallel (per replica)")
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--bound-kb", type=int, default=8192, help="rss: allowed RSS growth over the bad requests")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    if a.n is None:
        a.n = 1000 if a.mode == "rss" else 200
    work = tempfile.mkdtemp(prefix=f"ck-serve-{a.mode}.")
    try:
        res, ok = {"rss": mode_rss, "load": mode_load, "nginx": mode_nginx}[a.mode](a, work)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    res["machine"] = {"nproc": os.cpu_count(), "loadavg_1m": os.getloadavg()[0], "note": "under load (shared machine)"}
    os.makedirs(os.path.join(a.build, "bench"), exist_ok=True)
    with open(os.path.join(a.build, "bench", f"serve_{a.mode}.json"), "w") as f:
        json.dump(res, f, indent=2)
    print(f"\n{a.mode}: {'OK' if ok else 'FAILED'} (1-minute load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores: under load)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
