#!/usr/bin/env python3
"""Catalogue at scale: create N DAGs through the API, then measure GET /dags pages.

A measurement, not a test: prints latency percentiles for POST /dags and for listing
pages (first page, deep pages via the cursor, tag filter, name search).

    bench/catalogue.py --url http://127.0.0.1:5080 --key "$KEY" --dags 10000
"""
import argparse, http.client, json, statistics, threading, time, urllib.parse

def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]

def summary(name, ms):
    print(f"{name:<34} n={len(ms):>6}  p50={pct(ms,50):7.2f} ms  p95={pct(ms,95):7.2f} ms  p99={pct(ms,99):7.2f} ms  max={max(ms):7.2f} ms")

class Client:
    def __init__(self, url, key):
        u = urllib.parse.urlparse(url)
        self.host, self.port, self.key = u.hostname, u.port or 80, key
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def call(self, method, path, body=None):
        headers = {"X-Api-Key": self.key}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        start = time.perf_counter()
        self.conn.request(method, "/api/v1" + path, body=data, headers=headers)
        resp = self.conn.getresponse()
        payload = resp.read()
        elapsed = (time.perf_counter() - start) * 1000
        return resp.status, payload, elapsed

def dag(i, prefix):
    return {
        "name": f"{prefix}_{i:06d}",
        "cron": f"{i % 60} {i % 24} * * *",
        "timezone": ["UTC", "Europe/Berlin", "America/New_York"][i % 3],
        "tags": [f"team{i % 20}", "bench"],
        "tasks": [
            {"id": "extract", "type": "http", "uri": "http://127.0.0.1:9/data"},
            {"id": "transform", "depends_on": ["extract"]},
            {"id": "load", "type": "shell", "command": "echo load", "depends_on": ["transform"]},
        ],
    }

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:5080")
    ap.add_argument("--key", required=True)
    ap.add_argument("--dags", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--prefix", default="bench")
    ap.add_argument("--pages", type=int, default=300)
    args = ap.parse_args()

    post_ms, errors = [], []
    lock = threading.Lock()
    def create(worker):
        client = Client(args.url, args.key)
        for i in range(worker, args.dags, args.threads):
            status, payload, ms = client.call("PUT", f"/dags/{args.prefix}_{i:06d}", dag(i, args.prefix))
            with lock:
                post_ms.append(ms)
                if status not in (200, 201):
                    errors.append((status, payload[:200]))
    start = time.perf_counter()
    threads = [threading.Thread(target=create, args=(w,)) for w in range(args.threads)]
    for t in threads: t.start()
    for t in threads: t.join()
    took = time.perf_counter() - start
    print(f"created/updated {args.dags} DAGs in {took:.1f} s ({args.dags / took:.0f}/s) with {args.threads} clients; errors: {len(errors)}")
    if errors:
        print("first error:", errors[0])
    summary("PUT /dags/{name} (create)", post_ms)

    client = Client(args.url, args.key)
    first, deep, tag, search = [], [], [], []
    for _ in range(args.pages):
        first.append(client.call("GET", "/dags?limit=50")[2])
    cursor, walked = None, 0
    while walked < args.pages:
        status, payload, ms = client.call("GET", "/dags?limit=50" + (f"&cursor={cursor}" if cursor else ""))
        deep.append(ms)
        cursor = json.loads(payload)["next_cursor"]
        walked += 1
        if cursor is None:
            cursor = None
    for i in range(args.pages):
        tag.append(client.call("GET", f"/dags?limit=50&tag=team{i % 20}")[2])
        search.append(client.call("GET", f"/dags?limit=50&q={i % 1000:03d}")[2])
    summary("GET /dags first page (50)", first)
    summary("GET /dags cursor walk (50/page)", deep)
    summary("GET /dags?tag=", tag)
    summary("GET /dags?q= (name contains)", search)
    one = [client.call("GET", f"/dags/{args.prefix}_{i * 7 % args.dags:06d}")[2] for i in range(args.pages)]
    summary("GET /dags/{name}", one)

if __name__ == "__main__":
    main()
