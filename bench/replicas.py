#!/usr/bin/env python3
"""P10 and R1: several real server processes on one database (a measurement, not a test).

P10: the P3 burst (N runs x M noop tasks) against one replica, then against three; prints
     tasks/s for each and how the tasks spread over the replicas (by worker id).
R1:  three replicas with per-second DAGs (catchup on) while one replica, picked at random,
     is killed with SIGKILL every K seconds and replaced; then every DAG must have exactly
     one run per second from its first to its last logical date, and every run must finish.

    bench/replicas.py --dll src/Scheduler/bin/Release/net10.0/Scheduler.dll --db "Host=...;Database=..."
"""
import argparse, os, random, signal, socket, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine import Api, ts, wait  # noqa: E402

KEY = "sk_replicas_bench_admin_key_0123456789"

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port

class Replica:
    def __init__(self, dll, db, log_dir):
        self.port = free_port()
        env = dict(os.environ, ConnectionStrings__Scheduler=db, Auth__BootstrapAdminKey=KEY, ASPNETCORE_ENVIRONMENT="Production",
                   Serilog__MinimumLevel__Default="Warning", Workers__LeaseSeconds="5", Workers__HeartbeatSeconds="1",
                   Scheduler__CheckinSeconds="1", Scheduler__CheckinMisfireSeconds="4",
                   # Each replica its own gRPC port: the default 5081 would be taken by the first one.
                   Grpc__Port=str(free_port()))
        self.log = open(os.path.join(log_dir, f"replica-{self.port}.log"), "w")
        self.proc = subprocess.Popen(["dotnet", dll, "--urls", f"http://127.0.0.1:{self.port}"], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"replica on {self.port} exited at start; see {self.log.name}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                s, _ = Api(self.url, KEY).call("GET", "/workers")
                if s == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"replica on {self.port} did not become ready")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL); self.proc.wait(); self.log.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()

def burst(replicas, runs, width, name):
    api = Api(replicas[0].url, KEY)
    api.call("PUT", f"/dags/{name}", {"name": name, "max_active_runs": runs, "tasks": [{"id": f"t{i:03d}"} for i in range(width)]})
    ids = [api.call("POST", f"/dags/{name}/runs", {"conf": {"i": i}})[1]["run_id"] for i in range(runs)]
    results = [wait(api, i) for i in ids]
    tasks = [t for r in results for t in r["tasks"]]
    span = max(ts(t["finished_at"]) for t in tasks) - min(ts(t["started_at"]) for t in tasks)
    per = {}
    for t in tasks:
        worker = (t.get("worker_id") or (t.get("attempts") or [{}])[-1].get("worker_id") or "?")
        pid = worker.split(":")[1] if worker.count(":") >= 2 else worker
        per[pid] = per.get(pid, 0) + 1
    ok = all(r["state"] == "success" for r in results)
    return len(tasks) / span, per, ok

def p10(dll, db, log_dir, runs, width):
    replicas = [Replica(dll, db, log_dir)]
    try:
        one, _, ok1 = burst(replicas, runs, width, f"p10_one_{int(time.time())}")
        replicas += [Replica(dll, db, log_dir), Replica(dll, db, log_dir)]
        time.sleep(2)
        three, per, ok3 = burst(replicas, runs, width, f"p10_three_{int(time.time())}")
        spread = "/".join(str(per.get(str(r.proc.pid), 0)) for r in replicas)
        print(f"P10 {runs} runs x {width} noop: 1 replica {one:.0f} tasks/s, 3 replicas {three:.0f} tasks/s ({three / one:.2f}x; target >= 1x); "
              f"tasks per replica {spread}; all success: {ok1 and ok3}")
    finally:
        for r in replicas:
            r.stop()

def per_second_dags(api, count, prefix):
    names = [f"{prefix}_{int(time.time())}_{i}" for i in range(count)]
    for n in names:
        api.call("PUT", f"/dags/{n}", {"name": n, "cron": "* * * * * *", "catchup": True, "max_catchup_runs": 1000, "max_active_runs": 1000,
                                       "tasks": [{"id": "work", "type": "shell", "command": "sleep 0.3"}, {"id": "after", "depends_on": ["work"]}]})
    return names

def check(replicas, names):
    """Pauses the DAGs, waits for their runs, and counts missing seconds, duplicates and runs not successful."""
    api = Api(replicas[0].url, KEY)
    time.sleep(6)  # a killed scheduler's catch-up comes after the check-in threshold
    for n in names:
        api.call("POST", f"/dags/{n}/pause")
    deadline = time.time() + 120
    missing = dup = unfinished = total = 0
    for n in names:
        while True:
            items = api.call("GET", f"/dags/{n}/runs?limit=500")[1]["items"]
            if not [r for r in items if r["state"] in ("queued", "running")] or time.time() > deadline:
                break
            time.sleep(1)
        dates = sorted(ts(r["logical_date"]) for r in items)
        total += len(items)
        dup += len(dates) - len(set(dates))
        missing += sum(int(round(y - x)) - 1 for x, y in zip(dates, dates[1:]) if y - x > 1.001)
        unfinished += sum(1 for r in items if r["state"] != "success")
    return f"{total} runs; missing seconds {missing}, duplicates {dup}, not successful {unfinished}"

def r3(dll, db, log_dir, dags, restart_cmd):
    """PostgreSQL restarted under load: the replicas reconnect, nothing is lost or doubled."""
    replicas = [Replica(dll, db, log_dir) for _ in range(2)]
    try:
        names = per_second_dags(Api(replicas[0].url, KEY), dags, "r3")
        time.sleep(5)
        t0 = time.time()
        subprocess.run(restart_cmd, shell=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        back = time.time()
        down = back - t0
        # Resumed: a run of a second after the database came back exists (created by the scheduler).
        resumed = None
        while time.time() < back + 60 and resumed is None:
            try:
                items = Api(replicas[0].url, KEY).call("GET", f"/dags/{names[0]}/runs?limit=5")[1]["items"]
                if any(ts(r["logical_date"]) > back for r in items):
                    resumed = time.time() - back
            except (OSError, KeyError, TypeError, ValueError):
                pass
            time.sleep(0.2)
        time.sleep(5)
        took = "never" if resumed is None else f"{resumed:.1f} s"
        print(f"R3 PostgreSQL restarted ({down:.1f} s down) under 2 replicas, {dags} per-second DAGs: scheduling resumed {took} after it was back "
              f"(target <= 10 s); {check(replicas, names)} (target 0, 0, 0)")
    finally:
        for r in replicas:
            r.stop()

def r1(dll, db, log_dir, dags, seconds, kill_every):
    replicas = [Replica(dll, db, log_dir) for _ in range(3)]
    kills = 0
    try:
        names = per_second_dags(Api(replicas[0].url, KEY), dags, "r1")
        end = time.time() + seconds
        while time.time() < end:
            time.sleep(kill_every)
            victim = random.randrange(len(replicas))
            replicas[victim].kill(); kills += 1
            replicas[victim] = Replica(dll, db, log_dir)
        print(f"R1 3 replicas, {dags} per-second DAGs, {seconds} s, {kills} SIGKILLs: {check(replicas, names)} (target 0, 0, 0)")
    finally:
        for r in replicas:
            r.stop()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dll", required=True); ap.add_argument("--db", required=True)
    ap.add_argument("--runs", type=int, default=100); ap.add_argument("--tasks", type=int, default=100)
    ap.add_argument("--dags", type=int, default=5); ap.add_argument("--seconds", type=int, default=60); ap.add_argument("--kill-every", type=float, default=10)
    ap.add_argument("--logs", default=".local")
    ap.add_argument("--only", choices=["p10", "r1", "r3"])
    ap.add_argument("--restart-db", help="shell command that stops and starts PostgreSQL (R3); R3 is skipped without it")
    a = ap.parse_args()
    os.makedirs(a.logs, exist_ok=True)
    if a.only in (None, "p10"):
        p10(a.dll, a.db, a.logs, a.runs, a.tasks)
    if a.only in (None, "r1"):
        r1(a.dll, a.db, a.logs, a.dags, a.seconds, a.kill_every)
    if a.only in (None, "r3") and a.restart_db:
        r3(a.dll, a.db, a.logs, a.dags, a.restart_db)

if __name__ == "__main__":
    main()
