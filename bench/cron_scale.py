#!/usr/bin/env python3
"""P6 cron at scale: N DAGs on the same cron, for M firings (a measurement, not a test).

Creates the DAGs, lets M due times pass, pauses them, then reads every DAG's runs: creation
lag (queued_at - logical_date: all runs of a due time created <= 2 s after it), first-task
start lag (started_at of the task - logical_date, p99 <= 3 s; read for a sample of runs),
and missed or duplicated due times.

    bench/cron_scale.py --url http://127.0.0.1:5080 --key "$KEY" --dags 10000 --firings 5
    (--cron "* * * * * *" fires every second: the smoke uses it to avoid minute waits)
"""
import argparse, concurrent.futures, math, random, time
from engine import Api, pct, ts

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True); ap.add_argument("--key", required=True)
    ap.add_argument("--dags", type=int, default=10000); ap.add_argument("--firings", type=int, default=5)
    ap.add_argument("--cron", default="* * * * *"); ap.add_argument("--sample", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=8)
    a = ap.parse_args()
    period = 1 if len(a.cron.split()) == 6 else 60
    prefix = f"p6_{int(time.time())}"
    names = [f"{prefix}_{i:05d}" for i in range(a.dags)]

    def each(fn, items):
        with concurrent.futures.ThreadPoolExecutor(a.threads) as pool:
            return list(pool.map(fn, items))

    def create(chunk):
        api = Api(a.url, a.key)
        for n in chunk:
            api.call("PUT", f"/dags/{n}", {"name": n, "cron": a.cron, "tasks": [{"id": "a"}]})
    chunks = [names[i::a.threads] for i in range(a.threads)]
    t0 = time.time()
    each(create, chunks)
    created = time.time()
    print(f"P6 setup: {a.dags} DAGs on '{a.cron}' created in {created - t0:.1f} s")
    # The window: the first due time after every DAG exists, and the (firings - 1) after it.
    first = math.floor(created / period) * period + period
    last = first + (a.firings - 1) * period
    time.sleep(max(0, last - time.time()) + 3)

    def pause(chunk):
        api = Api(a.url, a.key)
        for n in chunk:
            api.call("POST", f"/dags/{n}/pause")
    each(pause, chunks)

    def runs_of(chunk):
        api = Api(a.url, a.key)
        return [(n, api.call("GET", f"/dags/{n}/runs?limit=100")[1]["items"]) for n in chunk]
    all_runs = [x for part in each(runs_of, chunks) for x in part]
    lags, missed, dups, window_runs, by_due = [], 0, 0, [], {}
    expected = [first + k * period for k in range(a.firings)]
    for n, items in all_runs:
        inside = [r for r in items if first - 0.5 <= ts(r["logical_date"]) <= last + 0.5]
        dates = [round(ts(r["logical_date"])) for r in inside]
        dups += len(dates) - len(set(dates))
        missed += sum(1 for e in expected if round(e) not in set(dates))
        for r in inside:
            lags.append(ts(r["queued_at"]) - ts(r["logical_date"]))
            by_due.setdefault(round(ts(r["logical_date"])), []).append(lags[-1])
            window_runs.append((r["run_id"] if "run_id" in r else r["id"], round(ts(r["logical_date"]))))

    sample = random.sample(window_runs, min(a.sample, len(window_runs)))
    def start_lag(chunk):
        api = Api(a.url, a.key)
        out = []
        for run_id, due in chunk:
            run = api.call("GET", f"/runs/{run_id}")[1]
            task = run["tasks"][0]
            if task.get("started_at"):
                out.append((due, ts(task["started_at"]) - ts(run["logical_date"])))
        return out
    sampled = [x for part in each(start_lag, [sample[i::a.threads] for i in range(a.threads)]) for x in part]
    starts = [lag for _, lag in sampled]
    # Per due time: the first one after the DAGs were created finds every cache cold.
    for k, due in enumerate(sorted(by_due)):
        firsts = [lag for d, lag in sampled if d == due]
        print(f"P6 due time {k + 1}: {len(by_due[due])} runs, creation lag p50 {pct(by_due[due], 50):.2f} s, max {max(by_due[due]):.2f} s; "
              f"first task started p99 {pct(firsts, 99) if firsts else float('nan'):.2f} s")
    print(f"P6 {a.dags} DAGs x {a.firings} firings of '{a.cron}': {len(lags)} runs; creation lag p99 {pct(lags, 99):.2f} s, max {max(lags):.2f} s (target all <= 2 s); "
          f"first task started p99 {pct(starts, 99):.2f} s after due (sample {len(starts)}; target <= 3 s); missed {missed}, duplicated {dups} (target 0, 0)")

if __name__ == "__main__":
    main()
