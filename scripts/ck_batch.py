#!/usr/bin/env python3
"""JSONL in -> JSONL out over one or more ck-serve replicas (or anything speaking /v1/chat/completions).

  ck_batch.py --in requests.jsonl --out answers.jsonl --server http://hostA:8080 --server http://hostB:8080 \
              [--concurrency 4] [--retries 3]

Each input line is one request:
  {"id": "img-001", "prompt": "Describe the image.", "image": "photos/001.png", "max_tokens": 64}
  (optional: "system", "temperature", "seed"; or "messages": [...] in OpenAI's form, sent as is)
Each output line, in input order: {"id", "text", "finish_reason", "usage", "server"} or {"id", "error"}.
Sharding: every server gets --concurrency worker threads that take the next request from one shared queue,
so a faster or less busy replica takes more (no fixed split); a request whose server fails (connection
refused, 5xx) is retried on the next server, up to --retries times. Standard library only.
"""
import argparse
import base64
import http.client
import json
import mimetypes
import queue
import sys
import threading
import urllib.parse


def body_of(req):
    if "messages" in req:
        msgs = req["messages"]
    else:
        content = [{"type": "text", "text": req.get("prompt", "")}]
        if "image" in req:
            with open(req["image"], "rb") as f:
                mime = mimetypes.guess_type(req["image"])[0] or "image/png"
                uri = f"data:{mime};base64," + base64.b64encode(f.read()).decode()
            content.append({"type": "image_url", "image_url": {"url": uri}})
        msgs = ([{"role": "system", "content": req["system"]}] if "system" in req else []) + \
               [{"role": "user", "content": content}]
    b = {"messages": msgs, "temperature": req.get("temperature", 0), "max_tokens": req.get("max_tokens", 256)}
    if "seed" in req:
        b["seed"] = req["seed"]
    return json.dumps(b)


class Transient(Exception):
    pass


def call(server, body, timeout):
    u = urllib.parse.urlsplit(server)
    c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        c.request("POST", u.path.rstrip("/") + "/v1/chat/completions", body=body,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
    except (OSError, http.client.HTTPException) as e:
        raise Transient(f"{server}: {e}")
    finally:
        c.close()
    if r.status >= 500:
        raise Transient(f"{server}: HTTP {r.status}")
    j = json.loads(data)
    if r.status != 200:  # the request's own fault: not retried
        return {"error": j.get("error", {}).get("message", f"HTTP {r.status}"), "status": r.status}
    return {"text": j["choices"][0]["message"]["content"], "finish_reason": j["choices"][0]["finish_reason"],
            "usage": j["usage"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--in", dest="inp", required=True, help="requests, one JSON object a line (- = stdin)")
    ap.add_argument("--out", required=True, help="answers, one JSON object a line (- = stdout)")
    ap.add_argument("--server", action="append", required=True, help="base URL; repeat for each replica")
    ap.add_argument("--concurrency", type=int, default=4, help="requests in flight per server")
    ap.add_argument("--retries", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=600)
    a = ap.parse_args()
    src = sys.stdin if a.inp == "-" else open(a.inp)
    reqs = []
    for n, line in enumerate(src, 1):
        if line.strip():
            r = json.loads(line)
            r.setdefault("id", str(n))
            reqs.append(r)
    results = [None] * len(reqs)
    todo = queue.Queue()
    for i in range(len(reqs)):
        todo.put((i, 0))
    pending = [len(reqs)]
    lock = threading.Condition()

    def worker(k):
        while True:
            with lock:
                if pending[0] == 0:
                    return
            try:
                i, tries = todo.get(timeout=0.2)
            except queue.Empty:
                continue
            server = a.server[(k + tries) % len(a.server)]
            try:
                res = call(server, body_of(reqs[i]), a.timeout)
                res["server"] = server
            except Transient as e:
                if tries + 1 < a.retries:
                    todo.put((i, tries + 1))
                    continue
                res = {"error": str(e)}
            except (OSError, ValueError, KeyError) as e:
                res = {"error": str(e)}
            with lock:
                results[i] = {"id": reqs[i]["id"], **res}
                pending[0] -= 1

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(a.server)) for _ in range(a.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out = sys.stdout if a.out == "-" else open(a.out + ".part", "w")
    for r in results:
        out.write(json.dumps(r, ensure_ascii=False) + "\n")
    if a.out != "-":
        out.close()
        import os
        os.replace(a.out + ".part", a.out)
    errors = sum(1 for r in results if "error" in r)
    print(f"ck_batch: {len(results)} requests, {errors} errors, over {len(a.server)} server(s)", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
