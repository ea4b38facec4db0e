#!/usr/bin/env python3
"""Trigger burst through the API (a measurement, not a test): C clients trigger runs of ONE
DAG (two noop tasks in a chain, max_active_runs high) for S seconds, each as fast as its
answers come. Reports triggers/s and trigger latency (p50, p99), then, once every run has
finished, run end minus queued_at (p50, p99, max): a wake-up lost under the burst shows as
a max near a safety poll (tens of seconds) while p99 stays small.

    bench/burst.py --url http://127.0.0.1:5080 --key "$KEY" [--clients 50 --seconds 10]
"""
import argparse, http.client, json, threading, time, urllib.parse
from datetime import datetime

def ts(s): return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else float("nan")

class Api:
    def __init__(self, url, key):
        u = urllib.parse.urlparse(url)
        self.c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60); self.key = key
    def call(self, method, path, body=None):
        h = {"X-Api-Key": self.key, "Content-Type": "application/json"}
        self.c.request(method, "/api/v1" + path, None if body is None else json.dumps(body), h)
        r = self.c.getresponse(); d = r.read()
        return r.status, (json.loads(d) if d else None)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True); ap.add_argument("--key", required=True)
    ap.add_argument("--clients", type=int, default=50); ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--prefix", default=f"burst_{int(time.time())}")
    ap.add_argument("--timeout", type=float, default=180, help="how long to wait for the runs to finish")
    ap.add_argument("--abort", action="store_true", help="at the end, drop the clients' connections with their requests in flight, as a load generator that is stopped does")
    a = ap.parse_args()
    dag = f"{a.prefix}_dag"
    s, _ = Api(a.url, a.key).call("PUT", f"/dags/{dag}", {"name": dag, "max_active_runs": 10000,
        "tasks": [{"id": "a"}, {"id": "b", "depends_on": ["a"]}]})
    assert s in (200, 201), s
    ids, latencies, errors, lock = [], [], {}, threading.Lock()
    end = time.time() + a.seconds
    apis = []
    def client():
        api = Api(a.url, a.key)
        with lock: apis.append(api)
        while time.time() < end:
            t0 = time.perf_counter()
            try:
                status, body = api.call("POST", f"/dags/{dag}/runs", {})
            except (OSError, http.client.HTTPException):
                if a.abort and time.time() >= end: return
                raise
            dt = (time.perf_counter() - t0) * 1000
            with lock:
                if status == 201:
                    ids.append(body["run_id"]); latencies.append(dt)
                else:
                    errors[status] = errors.get(status, 0) + 1
    threads = [threading.Thread(target=client) for _ in range(a.clients)]
    started = time.time()
    for t in threads: t.start()
    if a.abort:
        time.sleep(max(0, end - time.time()))
        with lock:
            for api in apis:
                try:
                    api.c.sock and api.c.sock.shutdown(2)
                except OSError:
                    pass
    for t in threads: t.join()
    wall = time.time() - started
    api = Api(a.url, a.key)
    deadline = time.time() + a.timeout
    while time.time() < deadline:
        busy = [api.call("GET", f"/dags/{dag}/runs?state={st}&limit=1")[1]["items"] for st in ("queued", "running")]
        if not any(busy): break
        time.sleep(0.2)
    # Every run of the DAG, read from its run list: a run whose trigger request was dropped
    # (--abort) was created all the same and must finish like the others.
    lags, states, runs, cursor = [], {}, [], ""
    while True:
        _, page = api.call("GET", f"/dags/{dag}/runs?limit=200" + (f"&cursor={cursor}" if cursor else ""))
        runs += page["items"]
        cursor = page.get("next_cursor")
        if not cursor: break
    for run in runs:
        states[run["state"]] = states.get(run["state"], 0) + 1
        if run.get("finished_at"):
            lags.append(ts(run["finished_at"]) - ts(run["queued_at"]))
    unfinished = len(runs) - len(lags)
    print(f"burst {a.clients} clients x {a.seconds:.0f} s on one DAG: {len(ids)} runs, {len(ids) / wall:.0f} triggers/s, "
          f"trigger p50={pct(latencies, 50):.1f} ms p99={pct(latencies, 99):.1f} ms; errors {errors or 'none'}")
    print(f"burst run end - queued: p50={pct(lags, 50):.2f} s p99={pct(lags, 99):.2f} s max={max(lags) if lags else float('nan'):.2f} s; "
          f"{len(runs)} runs in the DAG's list; states {states}; unfinished after {a.timeout:.0f} s: {unfinished}")

if __name__ == "__main__":
    main()
