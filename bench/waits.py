#!/usr/bin/env python3
"""W1: waits hold no slot (a measurement, not a test).

Parks WAITERS signal waits (RUNS runs of WAITERS/RUNS `wait` tasks with `signal: true`), then
runs P3-style noop work (engine.py's p3) beside them, and compares its throughput with the same
work run before the waiters existed and after they were cancelled. Also: how fast the waiters parked (trigger to all
'waiting'), and how fast signals finish them through the API (8 clients).

    bench/waits.py --url http://127.0.0.1:5080 --key "$KEY" [--waiters 10000 --runs 100 --p3-runs 40 --p3-tasks 100]
"""
import argparse, concurrent.futures, time
from engine import Api, p3

def parked(api, ids):
    waiting = 0
    for i in ids:
        _, run = api.call("GET", f"/runs/{i}")
        waiting += sum(1 for t in run["tasks"] if t["state"] == "waiting")
    return waiting

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:5080"); ap.add_argument("--key", required=True)
    ap.add_argument("--waiters", type=int, default=10000); ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--p3-runs", type=int, default=40); ap.add_argument("--p3-tasks", type=int, default=100)
    ap.add_argument("--signals", type=int, default=1000)
    ap.add_argument("--prefix", default=f"w1_{int(time.time())}")
    a = ap.parse_args()
    api = Api(a.url, a.key)
    width = a.waiters // a.runs

    before = p3(a.url, a.key, a.p3_runs, a.p3_tasks, a.prefix + "_before")

    name = f"{a.prefix}_waiters"
    api.call("PUT", f"/dags/{name}", {"name": name, "max_active_runs": a.runs,
                                      "tasks": [{"id": f"w{i:04d}", "type": "wait", "signal": True} for i in range(width)]})
    t0 = time.time()
    ids = [api.call("POST", f"/dags/{name}/runs", {"conf": {"i": i}})[1]["run_id"] for i in range(a.runs)]
    total, end = a.runs * width, time.time() + 600
    while parked(api, ids) < total:
        if time.time() > end: raise TimeoutError("waiters did not all park")
        time.sleep(0.5)
    park = time.time() - t0
    print(f"W1 {total} signal waits parked in {park:.1f} s ({total / park:.0f} waits/s, trigger to all 'waiting')")

    during = p3(a.url, a.key, a.p3_runs, a.p3_tasks, a.prefix + "_during")
    print(f"W1 P3 {a.p3_runs} x {a.p3_tasks} noop: {before:.0f} tasks/s without waiters, {during:.0f} tasks/s beside {total} parked waits ({during / before:.2f}x)")

    targets = [(ids[k % a.runs], f"w{k // a.runs:04d}") for k in range(min(a.signals, total))]
    def signal(t):
        s, _ = Api(a.url, a.key).call("POST", f"/runs/{t[0]}/tasks/{t[1]}/signal", {"by": "bench"}); return s
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(signal, targets))
    took = time.time() - t0
    print(f"W1 {len(targets)} signals in {took:.1f} s ({len(targets) / took:.0f} signals/s, 8 clients); all 200: {all(s == 200 for s in statuses)}")
    for i in ids:
        api.call("POST", f"/runs/{i}/cancel")
    # The same work once the waiters are gone: a warming process makes "before" the slowest.
    after = p3(a.url, a.key, a.p3_runs, a.p3_tasks, a.prefix + "_after")
    print(f"W1 P3 without waiters: {before:.0f} tasks/s before, {after:.0f} tasks/s after; beside the waiters {during:.0f}")

if __name__ == "__main__":
    main()
