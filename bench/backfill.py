#!/usr/bin/env python3
"""P11: a backfill of N logical dates created in bulk (target: 10,000 in <= 10 s).

A measurement, not a test: creates a paused per-minute DAG, times the dry run and the real
POST /dags/{name}/backfills (which returns once every run exists), then cancels the backfill
so its runs do not occupy the server for the scenarios after it.

    bench/backfill.py --url http://127.0.0.1:5080 --key "$KEY" --dates 10000
"""
import argparse, datetime, http.client, json, time, urllib.parse

def call(conn, key, method, path, body=None):
    headers = {"X-Api-Key": key}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    start = time.perf_counter()
    conn.request(method, "/api/v1" + path, body=data, headers=headers)
    resp = conn.getresponse()
    payload = resp.read()
    return resp.status, json.loads(payload or b"null"), time.perf_counter() - start

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--dates", type=int, default=10000)
    a = p.parse_args()
    u = urllib.parse.urlparse(a.url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=600)
    name = f"p11_{int(time.time())}"
    status, _, _ = call(conn, a.key, "POST", "/dags", {"name": name, "cron": "* * * * *", "paused": True,
        "tasks": [{"id": "a"}, {"id": "b", "depends_on": ["a"]}]})
    assert status == 201, status
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    end = start + datetime.timedelta(minutes=a.dates - 1)
    body = {"from": start.isoformat().replace("+00:00", "Z"), "to": end.isoformat().replace("+00:00", "Z"), "max_active_runs": 16}
    status, dry, dry_s = call(conn, a.key, "POST", f"/dags/{name}/backfills", {**body, "dry_run": True})
    assert status == 200 and dry["count"] == a.dates, (status, dry)
    status, backfill, real_s = call(conn, a.key, "POST", f"/dags/{name}/backfills", body)
    assert status == 201 and backfill["created"] == a.dates, (status, backfill)
    call(conn, a.key, "POST", f"/backfills/{backfill['id']}/cancel", {})
    verdict = "meets" if a.dates < 10000 or real_s <= 10 else "misses"
    print(f"P11 backfill of {a.dates} dates (2 tasks each): dry run {dry_s:.2f} s, created in {real_s:.2f} s "
          f"({a.dates / real_s:.0f} runs/s; target 10,000 in <= 10 s: {verdict})")

if __name__ == "__main__":
    main()
