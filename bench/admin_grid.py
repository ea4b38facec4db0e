#!/usr/bin/env python3
"""P8 admin grid and run detail: one DAG of N tasks with R finished runs, then time its page in
the admin UI, and one run's detail (API and admin page).

Runs are triggered and executed through the API (noop tasks), then the harness signs in to
/admin as a person would (antiforgery token, cookie) and fetches the DAG page, whose grid
shows the runs x a page of 500 tasks. A measurement, not a test.

    bench/admin_grid.py --url http://127.0.0.1:5080 --key "$KEY" --user admin --password "$PW" --runs 25 --tasks 5000
"""
import argparse, http.cookiejar, json, re, statistics, time, urllib.parse, urllib.request

def api(url, key, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + "/api/v1" + path, data=data, method=method,
                                 headers={"X-Api-Key": key, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read() or b"null")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--runs", type=int, default=25)
    ap.add_argument("--tasks", type=int, default=5000)
    ap.add_argument("--fetches", type=int, default=10)
    a = ap.parse_args()

    name = f"grid_bench_{int(time.time())}"
    api(a.url, a.key, "POST", "/dags", {"name": name, "max_active_runs": a.runs, "tasks": [{"id": f"t{i:05d}"} for i in range(a.tasks)]})
    start = time.time()
    ids = [api(a.url, a.key, "POST", f"/dags/{name}/runs", {"logical_date": f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z"})["run_id"] for i in range(a.runs)]
    pending = set(ids)
    while pending:
        time.sleep(1)
        for run_id in list(pending):
            if api(a.url, a.key, "GET", f"/runs/{run_id}")["state"] in ("success", "failed", "cancelled"):
                pending.discard(run_id)
    print(f"P8 grid setup: {a.runs} runs x {a.tasks} tasks executed in {time.time() - start:.1f} s")

    # Outside Development the sign-in cookie is Secure; this harness speaks plain http to a
    # server on loopback, which a browser treats as a secure context, so send it over http too.
    jar = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "wss", "http")))
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = opener.open(a.url + "/admin/login", timeout=30).read().decode()
    token = re.search(r'name="__RequestVerificationToken" type="hidden" value="([^"]+)"', login).group(1)
    form = urllib.parse.urlencode({"Username": a.user, "Password": a.password, "__RequestVerificationToken": token}).encode()
    opener.open(urllib.request.Request(a.url + "/admin/login", data=form, method="POST"), timeout=30).read()

    times, size = [], 0
    opener.open(a.url + f"/admin/dags/{name}", timeout=60).read()  # warm-up
    for _ in range(a.fetches):
        t0 = time.perf_counter()
        html = opener.open(a.url + f"/admin/dags/{name}", timeout=60).read()
        times.append((time.perf_counter() - t0) * 1000)
        size = len(html)
    if b"Sign in" in html[:3000] and b"grid" not in html:
        raise SystemExit("admin_grid: not signed in (wrong user or password?)")
    times.sort()
    print(f"P8 admin grid ({a.runs} runs x {a.tasks} tasks, page of 500 tasks, {size // 1024} KiB): "
          f"p50 {statistics.median(times):.0f} ms, max {times[-1]:.0f} ms (target <= 2000 ms)")

    # Run detail of a run of N tasks: the API (every task instance with its attempts) and the admin page.
    def timed(fetch):
        fetch()  # warm-up
        out = []
        for _ in range(a.fetches):
            t0 = time.perf_counter(); body = fetch(); out.append((time.perf_counter() - t0) * 1000)
        return sorted(out), len(body)
    run_id = ids[-1]
    req = lambda: urllib.request.urlopen(urllib.request.Request(a.url + f"/api/v1/runs/{run_id}", headers={"X-Api-Key": a.key}), timeout=60).read()
    api_times, api_size = timed(req)
    page_times, page_size = timed(lambda: opener.open(a.url + f"/admin/runs/{run_id}", timeout=60).read())
    print(f"P8 run detail ({a.tasks} tasks): API p50 {statistics.median(api_times):.0f} ms, max {api_times[-1]:.0f} ms ({api_size // 1024} KiB); "
          f"admin page p50 {statistics.median(page_times):.0f} ms, max {page_times[-1]:.0f} ms ({page_size // 1024} KiB) (target <= 300 ms)")

if __name__ == "__main__":
    main()
