#!/usr/bin/env python3
"""Engine figures through the public API (a measurement, not a test).

P1: a chain of 100 noop tasks; dependency-to-start latency = downstream started_at minus
    upstream finished_at, from the run's task-instance timestamps.
P2: a chain of 40 shell tasks of `sleep 0.01`; first task start to last task end (from the
    task timestamps) and trigger to run end (from outside: the POST until the run reads finished).
P3: N runs of M independent noop tasks triggered together; throughput = tasks / (last
    finished_at - first started_at).
MAP: one run of a noop task mapped over a list of N items (--map N, default off; 1,024 is
    the default max_map_length); throughput = instances / (last instance finished - first
    instance started), and the expansion = first instance started - the mapped task started.

    bench/engine.py --url http://127.0.0.1:5080 --key "$KEY" [--runs 200 --tasks 100] [--map 1024 --map-repeats 3]
"""
import argparse, concurrent.futures, http.client, json, time, urllib.parse
from datetime import datetime

def ts(s): return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()

def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]

class Api:
    def __init__(self, url, key):
        u = urllib.parse.urlparse(url); self.host, self.port, self.key = u.hostname, u.port or 80, key
        self.c = http.client.HTTPConnection(self.host, self.port, timeout=60)
    def call(self, method, path, body=None):
        h = {"X-Api-Key": self.key}
        if body is not None: h["Content-Type"] = "application/json"
        self.c.request(method, "/api/v1" + path, body=None if body is None else json.dumps(body), headers=h)
        r = self.c.getresponse(); data = r.read()
        return r.status, (json.loads(data) if data and r.getheader("Content-Type", "").startswith("application/") else data)

def wait(api, run_id, timeout=600):
    end = time.time() + timeout
    while time.time() < end:
        _, run = api.call("GET", f"/runs/{run_id}")
        if run["state"] in ("success", "failed", "cancelled"): return run
        time.sleep(0.05)
    raise TimeoutError(run_id)

def p1(api, length, repeats, prefix):
    tasks = [{"id": f"t{i:03d}", **({"depends_on": [f"t{i-1:03d}"]} if i else {})} for i in range(length)]
    api.call("PUT", f"/dags/{prefix}_chain", {"name": f"{prefix}_chain", "max_active_runs": 1, "tasks": tasks})
    gaps, totals = [], []
    for _ in range(repeats):
        s, run = api.call("POST", f"/dags/{prefix}_chain/runs", {})
        run = wait(api, run["run_id"])
        by = {t["task_id"]: t for t in run["tasks"]}
        for i in range(1, length):
            gaps.append((ts(by[f"t{i:03d}"]["started_at"]) - ts(by[f"t{i-1:03d}"]["finished_at"])) * 1000)
        totals.append(ts(run["finished_at"]) - ts(run["queued_at"]))
    # A downstream task handed to the reporting worker by the completion's own transaction has
    # started_at == its upstream's finished_at (both that transaction's now()): the gap then
    # reads 0. The run's span over its steps is the measure that a hand-off cannot hide.
    steps = [t * 1000 / length for t in totals]
    print(f"P1 chain of {length} noop, {repeats} runs: dependency-to-start p50={pct(gaps,50):.2f} ms p99={pct(gaps,99):.2f} ms max={max(gaps):.2f} ms; "
          f"run {pct(totals,50):.2f} s (median), {pct(steps,50):.2f} ms per step")

def p2(api, repeats, prefix, length=40):
    tasks = [{"id": f"s{i:02d}", "type": "shell", "command": "sleep 0.01", **({"depends_on": [f"s{i-1:02d}"]} if i else {})} for i in range(length)]
    api.call("PUT", f"/dags/{prefix}_shell", {"name": f"{prefix}_shell", "max_active_runs": 1, "tasks": tasks})
    spans, outside = [], []
    for _ in range(repeats):
        t0 = time.time()
        s, run = api.call("POST", f"/dags/{prefix}_shell/runs", {})
        while True:
            _, run = api.call("GET", f"/runs/{run['run_id']}")
            if run["state"] in ("success", "failed", "cancelled"): break
            time.sleep(0.005)
        outside.append(time.time() - t0)
        spans.append(max(ts(t["finished_at"]) for t in run["tasks"]) - min(ts(t["started_at"]) for t in run["tasks"]))
        assert run["state"] == "success", run["state"]
    print(f"P2 chain of {length} shell 'sleep 0.01', {repeats} runs: first start to last end p50={pct(spans,50):.3f} s max={max(spans):.3f} s; "
          f"trigger to run end (outside) p50={pct(outside,50):.3f} s (target <= 0.6 s)")

def p3(url, key, runs, width, prefix):
    api = Api(url, key)
    api.call("PUT", f"/dags/{prefix}_wide", {"name": f"{prefix}_wide", "max_active_runs": runs, "tasks": [{"id": f"t{i:03d}"} for i in range(width)]})
    def trigger(i):
        a = Api(url, key); s, run = a.call("POST", f"/dags/{prefix}_wide/runs", {"conf": {"i": i}}); return run["run_id"]
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(trigger, range(runs)))
    # Wait on the run list (two small queries per poll), not on each run's detail: reading
    # 100-task runs over and over while they execute would compete with what is measured.
    # The timings come from the task timestamps, read once everything has finished.
    end = time.time() + 600
    while time.time() < end:
        busy = [api.call("GET", f"/dags/{prefix}_wide/runs?state={s}&limit=1")[1]["items"] for s in ("queued", "running")]
        if not any(busy): break
        time.sleep(0.05)
    wall = time.time() - t0
    results = [wait(api, i) for i in ids]
    starts = [ts(t["started_at"]) for r in results for t in r["tasks"]]
    ends = [ts(t["finished_at"]) for r in results for t in r["tasks"]]
    n = len(starts)
    span = max(ends) - min(starts)
    print(f"P3 {runs} runs x {width} noop = {n} tasks: {n/span:.0f} tasks/s (first start to last finish {span:.2f} s); wall incl. triggering {wall:.2f} s; "
          f"all success: {all(r['state']=='success' for r in results)}")
    return n / span

def pmap(api, items, repeats, prefix):
    name = f"{prefix}_map"
    api.call("PUT", f"/dags/{name}", {"name": name, "max_active_runs": 1, "params": {"items": list(range(items))},
                                    "tasks": [{"id": "wide", "map_over": "{{ params.items | json }}", "max_map_length": max(items, 1)}]})
    rates, expansions, states = [], [], []
    for _ in range(repeats):
        _, run = api.call("POST", f"/dags/{name}/runs", {})
        run = wait(api, run["run_id"])
        states.append(run["state"])
        own = next(t for t in run["tasks"] if t["task_id"] == "wide" and "map_index" not in t)
        inst = [t for t in run["tasks"] if "map_index" in t]
        first, last = min(ts(t["started_at"]) for t in inst), max(ts(t["finished_at"]) for t in inst)
        rates.append(len(inst) / max(last - first, 1e-6))
        expansions.append((first - ts(own["started_at"])) * 1000)
    print(f"MAP one noop task mapped over {items} items, {repeats} runs: {pct(rates,50):.0f} tasks/s median (min {min(rates):.0f}, max {max(rates):.0f}); "
          f"expansion (mapped task start to first instance start) p50={pct(expansions,50):.1f} ms; all success: {all(s == 'success' for s in states)}")

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:5080"); ap.add_argument("--key", required=True)
    ap.add_argument("--chain", type=int, default=100); ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--runs", type=int, default=200); ap.add_argument("--tasks", type=int, default=100)
    ap.add_argument("--map", type=int, default=0); ap.add_argument("--map-repeats", type=int, default=3)
    ap.add_argument("--prefix", default=f"bench{int(time.time())}")
    a = ap.parse_args()
    if a.map > 0:
        pmap(Api(a.url, a.key), a.map, a.map_repeats, a.prefix)
        raise SystemExit(0)
    if a.repeats > 0:
        p1(Api(a.url, a.key), a.chain, a.repeats, a.prefix)
        p2(Api(a.url, a.key), a.repeats, a.prefix)
    p3(a.url, a.key, a.runs, a.tasks, a.prefix)
