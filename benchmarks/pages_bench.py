"""Server time and query count of every page the load test walks, one request at a time, in process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/twincity_load .venv/bin/python benchmarks/pages_bench.py \
        --enterprises 20000 [--repeat 20] [--page /enterprises/]

The database is prepared as benchmarks/load_bench.py prepares it (the same plan: migrated, N demo enterprises,
scored under every built-in standard; one holding another number of enterprises is refused unless --reset). Each
page is requested through Django's test client (the whole middleware stack, DEBUG off, no HTTP server) as the
persona of the load test's walk, `--repeat` times after one warm-up request; the server time is the wall time of
the request in this process, the CPU time that of this process (the database's own CPU is not in it). Prints a
table to stderr and, as its last line, one JSON object: per page its p50 and max milliseconds, CPU milliseconds
per request and the number of SQL queries of one request.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load_bench  # noqa: E402


def walk(plan: dict) -> list[tuple[str, str, str]]:
    """(persona, name, path) of every page of the load test, with the plan's first sample values."""
    code, run, term = plan["codes"][0], plan["runs"][0], plan["terms"][0]
    alice = plan["alice_code"]
    city, cluster, qualification = plan["cities"][0], plan["clusters"][0], plan["qualifications"][0]
    return [
        ("alice", "/ (alice)", "/"),
        ("alice", "/enterprises/[code]/ (alice)", f"/enterprises/{alice}/"),
        ("alice", "/points/enterprises/[code]/ (alice)", f"/points/enterprises/{alice}/"),
        ("alice", "/points/standards/", "/points/standards/"),
        ("alice", "/api/points/enterprises/[code] (alice)", f"/api/points/enterprises/{alice}"),
        ("alice", "/api/accounts/me", "/api/accounts/me"),
        ("bella", "/ (bella)", "/"),
        ("bella", "/enterprises/", "/enterprises/"),
        ("bella", "/enterprises/?q=", f"/enterprises/?q={term}"),
        ("bella", "/enterprises/?city=&industry_cluster=&ordering=&page=",
         f"/enterprises/?city={city}&industry_cluster={cluster}&ordering=-registered_on&page=3"),
        ("bella", "/enterprises/?qualification=", f"/enterprises/?qualification={qualification}"),
        ("bella", "/enterprises/[code]/", f"/enterprises/{code}/"),
        ("bella", "/api/enterprises/?q=", f"/api/enterprises/?q={term}"),
        ("olivia", "/ (olivia)", "/"),
        ("olivia", "/enterprises/ (olivia)", "/enterprises/"),
        ("olivia", "/enterprises/[code]/ (olivia)", f"/enterprises/{code}/"),
        ("olivia", "/points/enterprises/[code]/", f"/points/enterprises/{code}/"),
        ("olivia", "/points/runs/", "/points/runs/"),
        ("olivia", "/points/runs/[id]/", f"/points/runs/{run}/"),
        ("olivia", "/audit/", "/audit/"),
        ("olivia", "/api/enterprises/?q= (olivia)", f"/api/enterprises/?q={plan['terms'][1]}"),
        ("olivia", "/api/points/enterprises/[code]", f"/api/points/enterprises/{code}"),
        ("olivia", "/api/points/runs", "/api/points/runs"),
    ]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(plan: dict, *, repeat: int, only: str | None) -> dict[str, dict]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    users = {u.username: u for u in get_user_model().objects.filter(username__in=load_bench.PERSONAS)}
    clients = {}
    for persona in load_bench.PERSONAS:
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        client.force_login(users[persona])
        clients[persona] = client
    figures: dict[str, dict] = {}
    for persona, name, path in walk(plan):
        if only and only not in path:
            continue
        client = clients[persona]
        response = client.get(path)  # warm-up (and the check that it answers)
        if response.status_code != 200:
            raise SystemExit(f"{persona} GET {path} answered {response.status_code}")
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        queries = len(captured)  # now: the next request empties the connection's log
        times, cpus = [], []
        for _ in range(repeat):
            cpu, started = cpu_seconds(), time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            cpus.append((cpu_seconds() - cpu) * 1000)
        figures[name] = {"p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1),
                         "cpu_ms": round(statistics.median(cpus), 1), "queries": queries}
        print(f"{name:<58} {figures[name]['p50_ms']:>7} {figures[name]['max_ms']:>7} {figures[name]['cpu_ms']:>7} "
              f"{figures[name]['queries']:>4}", file=sys.stderr, flush=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--page", help="only the pages whose path contains this")
    parser.add_argument("--reset", action="store_true", help="reseed a database that holds another registry")
    parser.add_argument("--no-scoring", dest="score", action="store_false",
                        help="use the finished runs there are (at least one) instead of scoring every standard")
    args = parser.parse_args(argv)
    env = load_bench.database_env(args.enterprises)
    env.update({"DEBUG": "0", "SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0", "SECURE_HSTS_SECONDS": "0",
                "ALLOWED_HOSTS": "testserver", "ACCESS_LOG_LEVEL": "WARNING"})
    plan = load_bench.prepare(args.enterprises, reset=args.reset, env=env, score=args.score)
    print(f"{'page':<58} {'p50 ms':>7} {'max ms':>7} {'cpu ms':>7} {'SQL':>4}", file=sys.stderr)
    cpu, started = cpu_seconds(), time.perf_counter()
    pages = measure(plan, repeat=args.repeat, only=args.page)
    print(json.dumps({"enterprises": plan["enterprises"], "database": plan["database"], "repeat": args.repeat,
                      "seconds": round(time.perf_counter() - started, 1), "cpu_seconds": round(cpu_seconds() - cpu, 1),
                      "load_average": round(os.getloadavg()[0], 2), "pages": pages}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
