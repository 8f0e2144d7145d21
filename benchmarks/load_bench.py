"""Load test of the production server: alice, bella and olivia walking their main pages and API calls.

    .venv/bin/python benchmarks/load_bench.py --enterprises 20000 --users 20 --seconds 60
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/twincity_prod_load .venv/bin/python benchmarks/load_bench.py ...

1. Prepares the database: migrated, N demo enterprises (`seed_demo`), scored under every built-in standard
   (`run_scoring --all`). PostgreSQL when DATABASE_URL is set (that database is used; one that holds another
   number of enterprises is reseeded only with --reset), else the SQLite file benchmarks/out/load-N.sqlite3
   (kept, so a second run skips the preparation).
2. Starts the production server itself (`scripts/serve --production`, APP_SERVER=--server) on a free loopback
   port, with the environment a deployment has (DEBUG off, a random SECRET_KEY), plain HTTP, and one background
   worker (`manage.py run_worker`: `/healthz`, which the start waits for, needs a worker that has checked in).
3. Logs in as alice, bella and olivia (once each, before the measured time), requests every page of the walk
   once (any answer but 200 stops the benchmark), then runs locust headless (benchmarks/load_locustfile.py):
   --users simulated users, a third of them each persona, requesting back to back for --seconds.
4. Stops the server and prints, as its last line, one JSON object: users, seconds, requests, pages_per_second,
   p50_ms, p95_ms, errors, enterprises, server, database (and a few more fields for the record).

Every request is a page or an API call (static files are not requested: browsers keep them). Latencies are
measured by the client on the same machine, so they include locust's own time on the shared CPUs.
--url runs only the walk and the load against a server that is already running (the scale-out script uses it).
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
LOCUSTFILE = Path(__file__).resolve().parent / "load_locustfile.py"
PERSONAS = ("alice", "bella", "olivia")
PASSWORD = "twincity"


# --- the database -----------------------------------------------------------------------------------------------


def database_env(enterprises: int, sqlite_path: Path | None = None) -> dict[str, str]:
    """The environment that points the platform at the benchmark's database."""
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    if not env.get("DATABASE_URL"):
        OUT.mkdir(parents=True, exist_ok=True)
        env["SQLITE_NAME"] = str(sqlite_path or OUT / f"load-{enterprises}.sqlite3")
    return env


def _django(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare(enterprises: int, *, reset: bool, env: dict[str, str], score: bool = True) -> dict:
    """Migrate, seed N demo enterprises and score them (each step skipped when already done); return the plan
    the load walks: persona enterprise, a sample of credit codes, search terms, filter values, run ids."""
    _django(env)
    from django.core.management import call_command
    from django.db import connection

    from twincity.demo.personas import ALICE_CODE
    from twincity.enterprises.models import Enterprise, Qualification
    from twincity.enterprises.selectors import SORTS
    from twincity.points.models import ScoringRun

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    count = Enterprise.objects.count()
    if count != enterprises:
        ours = "SQLITE_NAME" in env and Path(env["SQLITE_NAME"]).parent == OUT
        if count and not (reset or ours):
            raise SystemExit(
                f"the database holds {count} enterprises, not {enterprises}: pass --reset to replace its registry "
                "with the demo data, or point DATABASE_URL at another database"
            )
        print(f"seeding {enterprises} demo enterprises into {connection.vendor} …", file=sys.stderr, flush=True)
        call_command("seed_demo", enterprises=enterprises, reset=bool(count), verbosity=0)
    if score:
        print("scoring every built-in standard (skipped where done today) …", file=sys.stderr, flush=True)
        with open(os.devnull, "w") as quiet:
            call_command("run_scoring", all=True, stdout=quiet)
    if connection.vendor == "postgresql":
        # Fresh statistics, as a database in service has (autovacuum lags behind a bulk seed): without them the
        # planner guesses, e.g. a qualification filter's rows, orders of magnitude wrong.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    rng = random.Random(2026)
    codes = list(Enterprise.objects.values_list("credit_code", flat=True))
    sample = rng.sample(codes, min(500, len(codes)))
    names = list(Enterprise.objects.filter(credit_code__in=sample[:100]).values_list("name", flat=True))
    terms = sorted({name[i:i + 2] for name in names for i in (0, 2, 4) if len(name[i:i + 2]) == 2}
                   | {"科技", "重庆", "成都", "电子", "软件"} | {code[:6] for code in sample[:20]})
    plan = {
        "enterprises": count if count == enterprises else Enterprise.objects.count(),
        "database": connection.vendor,
        "alice_code": ALICE_CODE,
        "codes": sample,
        "terms": [urllib.parse.quote(term) for term in terms],
        "cities": sorted(set(Enterprise.objects.values_list("city", flat=True).distinct())),
        "clusters": sorted(set(Enterprise.objects.values_list("industry_cluster", flat=True).distinct()) - {""}),
        "qualifications": sorted(set(Qualification.objects.values_list("kind", flat=True).distinct())),
        "orderings": list(SORTS),
        "runs": [str(public_id) for public_id in ScoringRun.objects.filter(status=ScoringRun.Status.DONE)
                 .order_by("-created_at").values_list("public_id", flat=True)[:20]],
        "prepare_seconds": round(time.perf_counter() - started, 1),
    }
    connection.close()
    if not plan["runs"]:
        raise SystemExit("no finished scoring run in the database: run_scoring --all failed?")
    return plan


# --- the server -------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(env: dict[str, str], port: int, server: str) -> dict[str, str]:
    env = dict(env)
    env.update({
        "SECRET_KEY": env.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP on loopback: no redirect to HTTPS, cookies not marked Secure.
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "APP_SERVER": server,
        "ACCESS_LOG": env.get("ACCESS_LOG", "0"),
        "PYTHONUNBUFFERED": "1",
    })
    return env


def start_server(env: dict[str, str], log: Path, *, release: bool = True) -> subprocess.Popen:
    if not release:
        env = {**env, "SKIP_RELEASE": "1"}
    handle = open(log, "ab")  # noqa: SIM115
    return subprocess.Popen([str(ROOT / "scripts" / "serve"), "--production"], cwd=ROOT, env=env, stdout=handle,
                            stderr=subprocess.STDOUT, start_new_session=True)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    """One background worker, as a deployment runs beside its servers: `/healthz` answers 503 until a worker has
    checked in. (Idle here: the load enqueues nothing.)"""
    handle = open(log, "ab")  # noqa: SIM115
    worker_env = {**env, "DEBUG": "0"}
    return subprocess.Popen([sys.executable, "manage.py", "run_worker"], cwd=ROOT, env=worker_env, stdout=handle,
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_ready(port: int, process: subprocess.Popen | None, log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"the server stopped ({process.returncode}); its log:\n{log.read_text()[-3000:]}")
        try:
            status, _, _ = request(port, "GET", "/healthz")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server did not answer /healthz within {timeout:.0f}s; its log:\n{log.read_text()[-3000:]}")


def stop_server(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM to the server's process group (the server stops gracefully), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def server_description(server: str, env: dict[str, str]) -> str:
    # scripts/serve's defaults: granian one process per core, gunicorn two.
    workers = env.get("WEB_CONCURRENCY") or str((1 if server == "granian" else 2) * (os.cpu_count() or 1))
    threads = env.get("WEB_THREADS") or "4"
    output = subprocess.run([str(Path(sys.executable).parent / server), "--version"], capture_output=True,
                            text=True, check=False).stdout
    version = re.search(r"\d+(\.\d+)+", output)
    return f"{server} {version[0] if version else '?'} ({workers} workers x {threads} threads)"


# --- plain HTTP for the logins and the walk ---------------------------------------------------------------------


def request(port: int, method: str, path: str, *, body: str | None = None, headers: dict | None = None,
            host: str = "127.0.0.1") -> tuple[int, dict[str, list[str]], str]:
    connection = http.client.HTTPConnection(host, port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        collected: dict[str, list[str]] = {}
        for key, value in response.getheaders():
            collected.setdefault(key.lower(), []).append(value)
        return response.status, collected, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def _cookies(headers: dict[str, list[str]]) -> dict[str, str]:
    jar = {}
    for line in headers.get("set-cookie", []):
        name, _, rest = line.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def login(port: int, username: str, host: str = "127.0.0.1") -> str:
    """Log in through the login form; return the Cookie header of the session."""
    status, headers, page = request(port, "GET", "/accounts/login/", host=host)
    jar = _cookies(headers)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if status != 200 or not match or "csrftoken" not in jar:
        raise SystemExit(f"login page answered {status} without a CSRF token")
    body = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": match[1]})
    status, headers, _ = request(port, "POST", "/accounts/login/", body=body, host=host, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={jar['csrftoken']}",
        "Referer": f"http://{host}:{port}/accounts/login/"})
    jar.update(_cookies(headers))
    if status != 302 or "sessionid" not in jar:
        raise SystemExit(f"login as {username} failed: HTTP {status}")
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def walk_once(port: int, plan: dict, host: str = "127.0.0.1") -> int:
    """Every page and API call of the walk once per persona: all must answer 200 (also warms the caches)."""
    code, run = plan["codes"][0], plan["runs"][0]
    pages = {
        "alice": ["/", f"/enterprises/{plan['alice_code']}/", f"/points/enterprises/{plan['alice_code']}/",
                  "/points/standards/", f"/api/points/enterprises/{plan['alice_code']}", "/api/accounts/me"],
        "bella": ["/", "/enterprises/", f"/enterprises/?q={plan['terms'][0]}",
                  f"/enterprises/?city={plan['cities'][0]}&industry_cluster={plan['clusters'][0]}&page=2",
                  f"/enterprises/?qualification={plan['qualifications'][0]}", f"/enterprises/{code}/",
                  f"/api/enterprises/?q={plan['terms'][0]}", "/api/accounts/me"],
        "olivia": ["/", "/enterprises/", f"/enterprises/{code}/", f"/points/enterprises/{code}/", "/points/runs/",
                   f"/points/runs/{run}/", "/points/standards/", "/audit/", f"/api/enterprises/?q={plan['terms'][1]}",
                   f"/api/points/enterprises/{code}", "/api/points/runs", "/api/accounts/me"],
    }
    count = 0
    for persona, paths in pages.items():
        for path in paths:
            status, _, _ = request(port, "GET", path, host=host, headers={"Cookie": plan["cookies"][persona]})
            if status != 200:
                raise SystemExit(f"{persona} GET {path} answered {status}: the walk needs every page to answer 200")
            count += 1
    return count


# --- the load ---------------------------------------------------------------------------------------------------


def run_locust(url: str, plan: dict, *, users: int, seconds: int, think_ms: int, workdir: Path) -> dict:
    plan_path = workdir / "plan.json"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    env = {**os.environ, "TWINCITY_LOAD_PLAN": str(plan_path), "TWINCITY_THINK_MS": str(think_ms)}
    prefix = workdir / "locust"
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", url,
               "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s", "--stop-timeout", "5",
               "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"]
    completed = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if completed.returncode != 0 or not Path(f"{prefix}_stats.csv").exists():
        raise SystemExit(f"locust failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    failures = []
    if Path(f"{prefix}_failures.csv").exists():
        with open(f"{prefix}_failures.csv", encoding="utf-8") as handle:
            failures = list(csv.DictReader(handle))
    return {"rows": rows, "failures": failures, "stderr": completed.stderr}


def summarise(rows: list[dict], seconds: int) -> dict:
    """The aggregated figures of locust's stats CSV."""
    total = next(row for row in rows if row["Name"] == "Aggregated")
    requests = int(total["Request Count"])
    return {
        "requests": requests,
        "pages_per_second": round(float(total["Requests/s"]) if requests else 0.0, 1),
        "p50_ms": float(total["50%"]) if requests else None,
        "p95_ms": float(total["95%"]) if requests else None,
        "errors": int(total["Failure Count"]),
    }


def print_table(rows: list[dict], failures: list[dict]) -> None:
    print(f"{'page':<58} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}", file=sys.stderr)
    for row in rows:
        print(f"{row['Name'][:58]:<58} {row['Request Count']:>8} {row['Failure Count']:>6} {row['50%']:>7} "
              f"{row['95%']:>7} {float(row['Max Response Time'] or 0):>7.0f}", file=sys.stderr)
    for failure in failures[:10]:
        print(f"error: {failure.get('Method')} {failure.get('Name')}: {failure.get('Error')} "
              f"x{failure.get('Occurrences')}", file=sys.stderr)


def load(url: str, port: int, plan: dict, *, users: int, seconds: int, think_ms: int, host: str = "127.0.0.1",
         workdir: Path) -> dict:
    """Log in, walk once, run the load; return the summary (without the server and database fields)."""
    plan = {**plan, "cookies": {persona: login(port, persona, host) for persona in PERSONAS}}
    walked = walk_once(port, plan, host)
    print(f"logged in as {', '.join(PERSONAS)}; {walked} pages answered 200 once; "
          f"{users} users for {seconds}s against {url} …", file=sys.stderr, flush=True)
    load_before = os.getloadavg()[0]
    result = run_locust(url, plan, users=users, seconds=seconds, think_ms=think_ms, workdir=workdir)
    print_table(result["rows"], result["failures"])
    return {"users": users, "seconds": seconds, **summarise(result["rows"], seconds),
            "load_average_before": round(load_before, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--server", choices=("gunicorn", "granian"), default=os.environ.get("APP_SERVER", "granian"))
    parser.add_argument("--workers", type=int, help="WEB_CONCURRENCY for the server (default: its own)")
    parser.add_argument("--threads", type=int, help="WEB_THREADS for the server (default: its own)")
    parser.add_argument("--think-ms", type=int, default=0, help="pause between a user's requests (default 0)")
    parser.add_argument("--reset", action="store_true", help="reseed a database that holds another registry")
    parser.add_argument("--url", help="load a server that is already running (no preparation, no server start)")
    args = parser.parse_args(argv)

    env = database_env(args.enterprises)
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    if args.threads:
        env["WEB_THREADS"] = str(args.threads)
    plan = prepare(args.enterprises, reset=args.reset, env=env)
    print(f"database ready ({plan['database']}, {plan['enterprises']} enterprises) in {plan['prepare_seconds']}s",
          file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="twincity-load-") as tmp:
        workdir = Path(tmp)
        if args.url:
            parsed = urllib.parse.urlsplit(args.url)
            summary = load(args.url, parsed.port or 80, plan, users=args.users, seconds=args.seconds,
                           think_ms=args.think_ms, host=parsed.hostname or "127.0.0.1", workdir=workdir)
            server = f"external {args.url}"
        else:
            port = free_port()
            senv = server_env(env, port, args.server)
            log = OUT / f"load-server-{port}.log"
            OUT.mkdir(parents=True, exist_ok=True)
            process = start_server(senv, log)
            worker = start_worker(senv, log)
            try:
                wait_ready(port, process, log)
                summary = load(f"http://127.0.0.1:{port}", port, plan, users=args.users, seconds=args.seconds,
                               think_ms=args.think_ms, workdir=workdir)
            finally:
                stop_server(worker)
                stop_server(process)
            log.unlink(missing_ok=True)
            server = server_description(args.server, senv)
    print(json.dumps({**summary, "enterprises": plan["enterprises"], "server": server, "database": plan["database"],
                      "cpus": os.cpu_count()}))
    return 0 if summary["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
