#!/usr/bin/env python3
"""P7 punctuality through the API: N DAGs with a per-second cron for T seconds; for every run,
queued_at minus logical_date. Prints the share created within 50 ms, p50 and p99, and checks
for duplicates and gaps."""
import argparse, http.client, json, time, urllib.parse
from datetime import datetime

def ts(s): return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else float("nan")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True); ap.add_argument("--key", required=True)
    ap.add_argument("--dags", type=int, default=100); ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--prefix", default=f"p7_{int(time.time())}")
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    def call(method, path, body=None):
        h = {"X-Api-Key": a.key, "Content-Type": "application/json"}
        c.request(method, "/api/v1" + path, None if body is None else json.dumps(body), h)
        r = c.getresponse(); d = r.read(); return json.loads(d) if d else None
    names = [f"{a.prefix}_{i:04d}" for i in range(a.dags)]
    for n in names:
        call("PUT", f"/dags/{n}", {"name": n, "cron": "* * * * * *", "tasks": [{"id": "a"}]})
    time.sleep(a.seconds)
    for n in names:
        call("POST", f"/dags/{n}/pause")
    lags, dups, gaps = [], 0, 0
    for n in names:
        items = call("GET", f"/dags/{n}/runs?limit=500")["items"]
        dates = sorted(ts(r["logical_date"]) for r in items)
        dups += len(dates) - len(set(dates))
        gaps += sum(1 for x, y in zip(dates, dates[1:]) if y - x > 1.001)
        first = dates[0] if dates else 0
        lags += [(ts(r["queued_at"]) - ts(r["logical_date"])) * 1000 for r in items if ts(r["logical_date"]) > first + 2]
    within = 100.0 * sum(1 for l in lags if l <= 50) / max(1, len(lags))
    print(f"P7 {a.dags} per-second DAGs, {a.seconds} s: {len(lags)} runs; created within 50 ms: {within:.1f}%; "
          f"p50 {pct(lags,50):.1f} ms, p99 {pct(lags,99):.1f} ms; duplicates {dups}, gaps {gaps}")

if __name__ == "__main__":
    main()
