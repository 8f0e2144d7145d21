"""Scale-out, shown: two app servers behind HAProxy and two task workers against one PostgreSQL on this machine,
the load test through the proxy, one worker and one app server killed mid-run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/twincity_prod_scale \\
        .venv/bin/python benchmarks/scale_out.py --enterprises 20000 --users 20 --seconds 60

1. Prepares the PostgreSQL database as benchmarks/load_bench.py does (created when missing; N demo enterprises,
   scored). DATABASE_URL is required (default: postgres://postgres@127.0.0.1:5432/twincity_prod_scale).
2. Starts app server A (`scripts/serve --production`: the release steps, then the server) and, once A answers,
   app server B (SKIP_RELEASE=1), each on its own loopback port, with REDIS_URL as the shared cache; then two
   workers with WORKER_CMD (default `python manage.py run_worker`, run from the repository with the same
   environment). When `WORKER_CMD --help` fails (no such command yet: the task worker is another branch's work),
   the run goes on without workers and reports "workers": "not available".
3. Starts HAProxy (Debian's package; installed with apt-get when missing and this user is root) in front of A
   and B: round robin, liveness checks (TCP connect) every second, and a failed or empty answer retried on the other
   server (`retry-on conn-failure empty-response response-timeout`, `option redispatch`).
4. With workers: olivia starts scoring runs (API) and uploads a declarations file on the import page, so there
   is work in the queue while the load runs.
5. Runs the load test through the proxy (load_bench's walk: alice, bella, olivia, locust headless). At a third
   of the time one worker is killed (SIGKILL), at half the time app server B is killed (SIGKILL to its whole
   process group: master and workers, in-flight requests included).
6. Checks: every request got an answer (locust counted no error: HAProxy retried what B dropped on A); with
   workers, every task finished exactly once (each ScoringRun done, done = total = its result rows = the
   registry; the ImportJob done, its rows created once, one audit entry per row). Prints HAProxy's per-server
   counts and, as its last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load_bench  # noqa: E402

ROOT = load_bench.ROOT
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/twincity_prod_scale"
DEFAULT_WORKER_CMD = "python manage.py run_worker"
TASK_RUNS = ("tsme-2017", "scp-v1")  # scoring runs olivia starts while the load runs
IMPORT_ROWS = 500


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- PostgreSQL, HAProxy ---------------------------------------------------------------------------------------


def ensure_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
            log(f"created database {name}")


def haproxy_binary() -> str:
    found = shutil.which("haproxy")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing Debian's haproxy")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "haproxy"], env=env, check=True, capture_output=True)
        found = shutil.which("haproxy")
    if not found:
        raise SystemExit("haproxy is not installed: apt-get install haproxy")
    return found


HAPROXY_CFG = """\
global
    maxconn 2000
    stats socket {stats} mode 600 level admin

defaults
    mode http
    option httplog
    option forwardfor
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 10s
    # The proxy's check is the process's liveness: a TCP connect, answered by the listening socket even when every
    # thread is busy. A killed server refuses it and is out in two checks; a busy one stays in. (An HTTP check
    # of /healthz queues behind the busy threads: under load it timed out on the live server, the proxy took both
    # out and answered 503.) /healthz (database, cache, worker) is for monitoring, not for routing.
    timeout check 2s
    retries 6
    option redispatch 1
    retry-on conn-failure empty-response response-timeout 502 503 504

frontend web
    bind 127.0.0.1:{port}
    default_backend app

backend app
    balance roundrobin
    # At most as many requests in a server as it has threads: the rest wait in HAProxy's queue (and go to the
    # other server if theirs dies). A connection refused to live traffic marks the server down at once
    # (observe layer4): otherwise, while the live server is full, every retry of the second between the kill and
    # the next check goes to the dead one (the only server with free slots) and ends as 503.
    default-server check inter 1s fall 2 rise 2 maxconn {slots} observe layer4 error-limit 1 on-error mark-down
    timeout queue 60s
{servers}
"""


def haproxy_stats(stats: Path) -> list[dict[str, str]]:
    with socket.socket(socket.AF_UNIX) as client:
        client.connect(str(stats))
        client.sendall(b"show stat\n")
        data = b""
        while chunk := client.recv(65536):
            data += chunk
    lines = data.decode().strip().splitlines()
    header = lines[0].lstrip("# ").split(",")
    return [dict(zip(header, line.split(","))) for line in lines[1:] if line]


# --- processes -------------------------------------------------------------------------------------------------


def spawn(command: list[str], env: dict[str, str], logfile: Path) -> subprocess.Popen:
    handle = open(logfile, "ab")  # noqa: SIM115
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)


def kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def worker_command(env: dict[str, str]) -> list[str] | None:
    """WORKER_CMD as argv (a leading `python` is this venv's), or None when the command does not exist."""
    words = shlex.split(env.get("WORKER_CMD") or DEFAULT_WORKER_CMD)
    if words and words[0] in {"python", "python3"}:
        words[0] = sys.executable
    try:
        probe = subprocess.run([*words, "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                               check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return words if probe.returncode == 0 else None


# --- the tasks and their check ---------------------------------------------------------------------------------


def start_tasks(port: int, cookie: str, plan: dict) -> dict:
    """As olivia: scoring runs through the API, a declarations file through the import page."""
    import re

    started: dict = {"runs": [], "import": None}
    csrf = dict(part.split("=", 1) for part in cookie.split("; "))["csrftoken"]
    for offset, standard_id in enumerate(TASK_RUNS):
        # An evaluation date of its own, so the run is new whatever ran before.
        evaluation_date = (load_bench_today() - timedelta(days=400 + offset + os.getpid() % 300)).isoformat()
        body = json.dumps({"standard_id": standard_id, "evaluation_date": evaluation_date})
        status, _, text = load_bench.request(port, "POST", "/api/points/runs", body=body, headers={
            "Cookie": cookie, "X-CSRFToken": csrf, "Content-Type": "application/json",
            "Referer": f"http://127.0.0.1:{port}/"})
        if status != 202:
            raise SystemExit(f"starting a scoring run answered {status}: {text[:300]}")
        started["runs"].append(json.loads(text)["public_id"])
    # The import: IMPORT_ROWS declarations of existing enterprises for a year they do not have yet.
    filename = f"scale-out-{os.getpid()}-{int(time.time())}.csv"
    codes = plan["codes"][:IMPORT_ROWS]
    lines = ["credit_code,fiscal_year,employees,sales"]
    year = 2019 - (os.getpid() % 5)
    lines += [f"{code},{year},{100 + i},{1000 + i}" for i, code in enumerate(codes)]
    boundary = "----twincity-scale-out"
    _, _, page = load_bench.request(port, "GET", "/enterprises/import/", headers={"Cookie": cookie})
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    parts = [("csrfmiddlewaretoken", token[1] if token else csrf), ("kind", "declarations"), ("action", "import")]
    body_parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                  for name, value in parts]
    body_parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                      f"Content-Type: text/csv\r\n\r\n" + "\n".join(lines) + f"\r\n--{boundary}--\r\n")
    status, headers, text = load_bench.request(port, "POST", "/enterprises/import/", body="".join(body_parts),
                                               headers={"Cookie": cookie,
                                                        "Content-Type": f"multipart/form-data; boundary={boundary}",
                                                        "Referer": f"http://127.0.0.1:{port}/enterprises/import/"})
    location = (headers.get("location") or [""])[0]
    match = re.search(r"/import/jobs/(\d+)/", location)
    if status != 302 or not match:
        raise SystemExit(f"the import page answered {status} {location}: {text[:300]}")
    started["import"] = {"job": int(match[1]), "filename": filename, "rows": len(codes), "year": year}
    return started


def load_bench_today():
    from django.utils import timezone

    return timezone.localdate()


def check_tasks(started: dict, timeout: float) -> dict:
    """Wait for the tasks to finish (or the timeout), then check each finished exactly once."""
    from django.db import close_old_connections

    from twincity.core.models import AuditEntry
    from twincity.enterprises.models import AnnualDeclaration, Enterprise, ImportJob
    from twincity.points.models import ScoreResult, ScoringRun

    deadline = time.monotonic() + timeout
    while True:
        close_old_connections()
        runs = list(ScoringRun.objects.filter(public_id__in=started["runs"]))
        job = ImportJob.objects.get(pk=started["import"]["job"])
        finished = all(run.status in {"done", "failed"} for run in runs) and job.is_finished
        if finished or time.monotonic() > deadline:
            break
        time.sleep(2)
    registry = Enterprise.objects.count()
    report: dict = {"runs": [], "import": {}}
    ok = True
    for run in runs:
        results = ScoreResult.objects.filter(run=run).count()
        once = run.status == "done" and run.done == run.total == results == registry
        ok &= once
        report["runs"].append({"standard": str(run.standard), "status": run.status, "total": run.total,
                               "done": run.done, "results": results, "exactly_once": once})
    spec = started["import"]
    declarations = AnnualDeclaration.objects.filter(fiscal_year=spec["year"],
                                                    enterprise__credit_code__in=started["import_codes"]).count()
    audit = AuditEntry.objects.filter(context__contains=spec["filename"]).count()
    created = (job.result or {}).get("created")
    once = job.status == "done" and created == spec["rows"] == declarations and audit == spec["rows"]
    ok &= once
    report["import"] = {"status": job.status, "rows": spec["rows"], "created": created,
                        "declarations": declarations, "audit_entries": audit, "exactly_once": once}
    report["all_exactly_once"] = ok and len(runs) == len(started["runs"])
    return report


# --- main ------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--app-workers", type=int, default=2, help="WEB_CONCURRENCY of each app server")
    parser.add_argument("--reset", action="store_true", help="reseed a database that holds another registry")
    parser.add_argument("--task-timeout", type=float, default=900, help="seconds to wait for the tasks to finish")
    args = parser.parse_args(argv)

    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        raise SystemExit("the scale-out runs against PostgreSQL: set DATABASE_URL=postgres://…")
    ensure_database(os.environ["DATABASE_URL"])
    proxy = haproxy_binary()
    env = load_bench.database_env(args.enterprises)
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/3")
    env["WEB_CONCURRENCY"] = str(args.app_workers)
    env["TRUSTED_PROXY_COUNT"] = "1"
    env["RECOVER_INTERRUPTED"] = "0"  # several app servers share the database
    # One key for every process: a session signed by one app server is valid on the other.
    env.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    plan = load_bench.prepare(args.enterprises, reset=args.reset, env=env)
    log(f"database ready: {plan['enterprises']} enterprises, {plan['database']} ({plan['prepare_seconds']}s)")

    workdir = Path(tempfile.mkdtemp(prefix="twincity-scale-out-"))
    processes: dict[str, subprocess.Popen] = {}
    events: list[str] = []
    result: dict = {}
    try:
        # Workers first: an app server is healthy only while a worker checks in (/healthz).
        wenv = load_bench.server_env(env, 0, os.environ.get("APP_SERVER", "granian"))
        command = worker_command(wenv)
        if command:
            for name in ("1", "2"):
                processes[f"worker-{name}"] = spawn(command, wenv, workdir / f"worker-{name}.log")
            log(f"two workers: {shlex.join(command)}")
        else:
            log(f"workers: not available ({wenv.get('WORKER_CMD') or DEFAULT_WORKER_CMD} --help failed); "
                "the run goes on without them")

        ports = {"a": load_bench.free_port(), "b": load_bench.free_port()}
        for name in ("a", "b"):
            senv = load_bench.server_env(env, ports[name], os.environ.get("APP_SERVER", "granian"))
            senv["PROC_NAME"] = f"twincity-{name}"
            processes[f"app-{name}"] = load_bench.start_server(senv, workdir / f"app-{name}.log", release=name == "a")
            load_bench.wait_ready(ports[name], processes[f"app-{name}"], workdir / f"app-{name}.log")
            log(f"app server {name.upper()} on 127.0.0.1:{ports[name]} (pid {processes[f'app-{name}'].pid})")

        proxy_port = load_bench.free_port()
        stats = workdir / "haproxy.sock"
        servers = "\n".join(f"    server {name} 127.0.0.1:{port}" for name, port in ports.items())
        (workdir / "haproxy.cfg").write_text(HAPROXY_CFG.format(stats=stats, port=proxy_port, servers=servers,
                                                               slots=args.app_workers * int(env.get("WEB_THREADS") or 4)))
        processes["proxy"] = spawn([proxy, "-db", "-f", str(workdir / "haproxy.cfg")], env,
                                   workdir / "haproxy.log")
        load_bench.wait_ready(proxy_port, processes["proxy"], workdir / "haproxy.log", timeout=30)
        version = subprocess.run([proxy, "-v"], capture_output=True, text=True, check=False).stdout.split()
        log(f"HAProxy {version[2] if len(version) > 2 else ''} on 127.0.0.1:{proxy_port}")

        load_bench._django(env)
        started = None
        if command:
            cookie = load_bench.login(proxy_port, "olivia")
            started = start_tasks(proxy_port, cookie, plan)
            started["import_codes"] = plan["codes"][:IMPORT_ROWS]
            log(f"tasks queued: {len(started['runs'])} scoring runs, import job {started['import']['job']}")

        t0 = time.monotonic()

        def chaos() -> None:
            if command:
                time.sleep(max(0.0, t0 + args.seconds / 3 - time.monotonic()))
                kill_group(processes["worker-1"])
                events.append(f"worker 1 killed at {time.monotonic() - t0:.0f}s")
                log(events[-1])
            time.sleep(max(0.0, t0 + args.seconds / 2 - time.monotonic()))
            kill_group(processes["app-b"])
            events.append(f"app server B killed at {time.monotonic() - t0:.0f}s")
            log(events[-1])

        killer = threading.Thread(target=chaos, daemon=True)
        killer.start()
        summary = load_bench.load(f"http://127.0.0.1:{proxy_port}", proxy_port, plan, users=args.users,
                                  seconds=args.seconds, think_ms=0, workdir=workdir)
        killer.join(timeout=args.seconds)
        rows = {row["svname"]: row for row in haproxy_stats(stats) if row["pxname"] == "app"}
        per_server = {name: {"requests": int(row.get("stot") or 0), "retries": int(row.get("wretr") or 0),
                             "redispatches": int(row.get("wredis") or 0), "5xx": int(row.get("hrsp_5xx") or 0),
                             "status": row.get("status")} for name, row in rows.items()}
        log(f"HAProxy per server: {json.dumps(per_server)}")
        tasks = check_tasks(started, args.task_timeout) if started else None
        if tasks:
            log(f"tasks: {json.dumps(tasks)}")
        result = {
            **{key: summary[key] for key in ("users", "seconds", "requests", "pages_per_second", "p50_ms", "p95_ms",
                                             "errors")},
            "every_request_answered": summary["errors"] == 0,
            "app_servers": 2,
            "proxy": f"haproxy {version[2] if len(version) > 2 else '?'}",
            "per_server": per_server,
            "events": events,
            "workers": 2 if command else "not available",
            "tasks_exactly_once": tasks["all_exactly_once"] if tasks else "not checked (no workers)",
            "enterprises": plan["enterprises"],
            "database": plan["database"],
        }
    finally:
        for process in processes.values():
            if process.poll() is None:
                kill_group(process, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                kill_group(process)
        if result and result["every_request_answered"] and result["tasks_exactly_once"] is not False:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"logs kept in {workdir}")
    print(json.dumps(result))
    return 0 if result.get("every_request_answered") and result.get("tasks_exactly_once") is not False else 1


if __name__ == "__main__":
    sys.exit(main())
